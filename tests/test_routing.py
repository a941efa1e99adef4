"""comptoir/routing.py: the direct router picks the route FastAPI picks, calls only the endpoints that
need nothing of FastAPI's per-request handling, and answers as FastAPI would."""

from __future__ import annotations

import re

import pytest
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.testclient import TestClient
from starlette.routing import Match, Mount, Route

from comptoir.routing import DirectRouter, _direct_names
from comptoir.wire import api


def _paths_of(route: Route, prefix: str) -> list[str]:
    """Paths the route's template stands for: its parameters as a number and as a word."""
    return [prefix + re.sub(r"{[^}]+}", value, route.path_format) for value in ("1", "x-1")]


def _fastapi_choice(router, scope) -> object | None:
    """The route FastAPI's router hands the request to: the first that matches fully."""
    for route in router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def test_every_dialect_route_is_chosen_as_fastapi_chooses(client):
    """For every route of every dialect, every method, a path of its template: when the direct
    router answers, with the very route FastAPI would have chosen; and OneUp's hot routes are direct."""
    mounts = [route for route in client.app.router.routes  # the dialects (not /static's files)
              if isinstance(route, Mount) and isinstance(route.app, FastAPI)]
    assert {mount.path for mount in mounts} >= {"/oneup/v1", "/upflow/v1", "/quipu", "/oneconnect/v1"}
    direct: set[tuple[str, str, str]] = set()
    for mount in mounts:
        router = mount.app.router
        assert isinstance(router, DirectRouter)
        for route in router.routes:
            if not isinstance(route, Route):
                continue
            for method in sorted(route.methods or ()):
                for path in _paths_of(route, mount.path):
                    scope = {"type": "http", "method": method, "path": path, "root_path": mount.path,
                             "path_params": {}}
                    chosen = router._direct_match(dict(scope)) if router._index() is not None else None
                    if chosen is not None:
                        assert chosen[0] is _fastapi_choice(router, dict(scope)), (method, path)
                        direct.add((mount.path, method, route.path))
    hot = {("/oneup/v1", "GET", "/invoices/{element}"), ("/oneup/v1", "GET", "/invoices"),
           ("/oneup/v1", "POST", "/invoices"), ("/oneup/v1", "POST", "/transactions"),
           ("/oneup/v1", "GET", "/reports/{name}")}
    assert hot <= direct


class Refused(Exception):
    pass


def _app() -> FastAPI:
    """An application with routes of every kind: direct ones, and ones FastAPI must handle."""
    app = api("test")

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return JSONResponse({"refused": str(error)}, status_code=418)

    @app.get("/things/{name}")
    async def thing(name: str, request: Request) -> Response:
        if name == "bad":
            raise Refused("bad name")
        if name == "missing":
            raise HTTPException(404, "no such thing")
        return JSONResponse({"name": name, "path": request.url.path})

    @app.get("/{owner}/things")
    async def owned(request: Request) -> Response:
        return JSONResponse({"owner": request.path_params["owner"]})

    @app.get("/things/{name}/count")
    async def count(name: str, request: Request, limit: int = Query(3)) -> Response:  # a query parameter
        return JSONResponse({"limit": limit})

    @app.get("/plain")
    async def plain(request: Request) -> dict:  # FastAPI serializes what it returns
        return {"plain": True}

    async def who(request: Request) -> str:
        return "someone"

    @app.get("/who")
    async def whom(request: Request, caller: str = Depends(who)) -> Response:  # a dependency
        return PlainTextResponse(caller)

    @app.get("/numbers/{number}")
    async def number(number: int, request: Request) -> Response:  # converted and validated by FastAPI
        return JSONResponse({"number": number})
    return app


def test_only_routes_needing_nothing_of_fastapi_are_direct():
    app = _app()
    names = {route.path: _direct_names(route) for route in app.router.routes if isinstance(route, Route)}
    assert names["/things/{name}"] == ("request", ("name",))
    assert names["/{owner}/things"] == ("request", ())  # a path parameter it does not declare
    for path in ("/things/{name}/count", "/plain", "/who", "/numbers/{number}", "/openapi.json"):
        assert names[path] is None, path


@pytest.mark.parametrize(("path", "status", "body"), [
    ("/things/chair", 200, {"name": "chair", "path": "/things/chair"}),
    ("/things/bad", 418, {"refused": "bad name"}),  # the application's exception handler
    ("/things/missing", 404, {"detail": "no such thing"}),
    ("/things/chair/count?limit=7", 200, {"limit": 7}),
    ("/plain", 200, {"plain": True}),
    ("/numbers/12", 200, {"number": 12}),
    ("/ann/things", 200, {"owner": "ann"}),
])
def test_answers_are_fastapis(path, status, body):
    """The same answers with the direct router as with FastAPI's own."""
    for app in (_app(), _fastapi_app()):
        response = TestClient(app).get(path)
        assert (response.status_code, response.json()) == (status, body), (type(app.router), path)


def test_other_answers_are_fastapis():
    direct, plain = TestClient(_app()), TestClient(_fastapi_app())
    for method, path in (("GET", "/who"), ("GET", "/numbers/twelve"), ("POST", "/things/chair"), ("GET", "/nothing")):
        got, expected = direct.request(method, path), plain.request(method, path)
        assert (got.status_code, got.content, got.headers.get("allow")) == \
            (expected.status_code, expected.content, expected.headers.get("allow")), (method, path)


def _fastapi_app() -> FastAPI:
    """`_app` as FastAPI routes it."""
    app = _app()
    app.router.__class__ = type(app.router).__mro__[1]  # FastAPI's APIRouter
    app.router.middleware_stack = app.router.app
    return app


def test_a_dialects_request_skips_the_roots_stack_and_keeps_its_guards(client, oneup):
    """comptoir/app.Root: a request a dialect's mount takes goes to that dialect's application
    without the root's middleware stack, yet a NUL in its URL is still refused in its dialect's
    format; a path the mount does not take (a line feed in it) and the root's own paths go through
    the root's stack, as before."""
    client.get("/healthz")  # the root's stack built
    root_stack = client.app.middleware_stack
    reached: list[str] = []
    inner = root_stack.app

    async def counting(scope, receive, send):
        reached.append(scope["path"])
        await inner(scope, receive, send)
    root_stack.app = counting
    try:
        assert oneup.get("/customers").status_code == 200
        assert reached == []
        refused = oneup.get("/customers?name=%00")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "5"  # OneUp's own format
        assert reached == []
        assert client.get("/healthz").status_code == 200
        missed = oneup.get("/customers/a%0Ab")
        assert missed.status_code == 404
        assert reached == ["/healthz", "/oneup/v1/customers/a\nb"]
    finally:
        root_stack.app = inner
