"""Routing of our FastAPI applications with less work per request (docs/performance.md, ADR 0018).

FastAPI's router tries every route of an application in turn (OneUp has over a hundred), then hands
the request to a handler that, for every request, solves the endpoint's dependencies, opens two
AsyncExitStacks, wraps the call in its own exception handling and inspects what the endpoint
returned: a fifth of the CPU of a hot request that reads one invoice, for endpoints that take the
request and text path parameters and return a Response themselves.

`DirectRouter` is FastAPI's router with two shortcuts, each exact:

- a request is matched only against the routes that could match its path: those whose path starts
  with the same literal first segment, and those whose first segment is a parameter (or that are not
  plain routes), in their declared order. Starlette's own `matches` decides, so the first route that
  matches fully is the one FastAPI would pick;
- when that route is *direct* (a FastAPI route whose endpoint is a coroutine taking only the request
  and `str` path parameters, with no dependency, no body, query, header or cookie parameter, no
  response model, no body size limit of its own, and annotated to return a Response), the endpoint is
  called with the request and the path parameters and its Response sent, as FastAPI itself would do.

Anything else (no full match, a 405, a route with dependencies or parameters FastAPI must convert,
an included router) goes through FastAPI's router unchanged. The application's middleware and
exception handlers wrap the router as before: an exception raised by a direct endpoint reaches the
same handlers. tests/test_routing.py checks that every route of every dialect is reached as before.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute, APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, get_route_path
from starlette.types import Receive, Scope, Send

_ANY_FIRST = ""  # the index key of routes whose first path segment is not a literal


class DirectRouter(APIRouter):
    """FastAPI's router with the shortcuts of the module. It keeps no state of its own but the index
    it builds on first use (and again whenever routes are added)."""

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.form_limits and self._index() is not None:
            found = self._direct_match(scope)
            if found is not None:
                route, (request_name, parameters), child_scope = found
                scope.setdefault("router", self)
                scope.update(child_scope)
                path_params = scope["path_params"]
                request = Request(scope, receive, send)
                # A path parameter the endpoint does not declare stays in `request.path_params` only.
                response = await route.endpoint(**{request_name: request},
                                                **{name: path_params[name] for name in parameters})
                await response(scope, receive, send)
                return
        await super().app(scope, receive, send)

    def _direct_match(self, scope: Scope) -> tuple[APIRoute, tuple[str, tuple[str, ...]], Scope] | None:
        """The direct route that matches the request fully, the names of its request parameter and of
        its path parameters, and its child scope; None when the route FastAPI would choose is not
        direct, or when none is."""
        index = self._index()
        assert index is not None
        path = get_route_path(scope)
        method = scope["method"]
        first = path.split("/", 2)[1] if path.startswith("/") else ""
        for route, names in index.get(first, index[_ANY_FIRST]):
            if not isinstance(route, Route):  # a mount, an included router: as it matches itself
                if route.matches(scope)[0] is Match.FULL:
                    return None
                continue
            # Route.matches, without building the child scope of a route that does not match fully.
            found = route.path_regex.match(path)
            if found is None or (route.methods and method not in route.methods):
                continue
            if names is None:
                return None
            path_params = dict(scope.get("path_params", {}))
            path_params.update((key, route.param_convertors[key].convert(value))
                               for key, value in found.groupdict().items())
            return route, names, {"endpoint": route.endpoint, "path_params": path_params, "route": route}
        return None

    def _index(self) -> dict[str, list[tuple[Any, tuple[str, tuple[str, ...]] | None]]] | None:
        """Candidates by literal first segment, in declared order (with those of any first segment
        mixed in at their places); each with the name of its request parameter when it is direct.
        None when no route is direct (the root application's mounts): FastAPI routes every request."""
        version = len(self.routes)
        cached = self.__dict__.get("_direct_index")
        if cached is not None and cached[0] == version:
            return cached[1]
        entries = [(_first_literal(route), (route, _direct_names(route))) for route in self.routes]
        literals = {first for first, _ in entries if first is not None}
        index: dict[str, list[tuple[Any, tuple[str, tuple[str, ...]] | None]]] | None = {
            key: [entry for first, entry in entries if first in (key, None)] for key in literals}
        index[_ANY_FIRST] = [entry for first, entry in entries if first is None]
        if not any(name for _, (_, name) in entries):
            index = None
        self.__dict__["_direct_index"] = (version, index)
        return index


def _first_literal(route: Any) -> str | None:
    """The literal first segment of a plain route's path; None when it may match any first segment
    (a parameter there, or a route that is not a plain Route: a mount, an included router)."""
    if not isinstance(route, Route):
        return None
    first = route.path.split("/", 2)[1] if route.path.startswith("/") else ""
    return None if "{" in first else first


def _direct_names(route: Any) -> tuple[str, tuple[str, ...]] | None:
    """The names of the endpoint's request parameter and path parameters when the route is direct
    (see the module); None otherwise."""
    if type(route) is not APIRoute or not inspect.iscoroutinefunction(route.endpoint):
        return None
    dependant = route.dependant
    if (dependant.dependencies or dependant.query_params or dependant.header_params or dependant.cookie_params
            or dependant.body_params or route.dependencies or route.response_model is not None
            or getattr(route, "max_body_size", None) is not None or dependant.request_param_name is None):
        return None
    if any(param.field_info.annotation is not str or param.field_info.metadata for param in dependant.path_params):
        return None
    # Everything the endpoint declares is the request and those path parameters.
    declared = set(inspect.signature(route.endpoint).parameters)
    if declared != {dependant.request_param_name, *(param.name for param in dependant.path_params)}:
        return None
    returns = get_typed_return_annotation(route.endpoint)
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        return None
    return dependant.request_param_name, tuple(param.name for param in dependant.path_params)


# What a route was declared with, as `add_api_route` takes it (and APIRoute keeps it, under the same names).
_DECLARED = ("response_model", "status_code", "tags", "dependencies", "summary", "description", "response_description",
             "responses", "deprecated", "methods", "operation_id", "response_model_include", "response_model_exclude",
             "response_model_by_alias", "response_model_exclude_unset", "response_model_exclude_defaults",
             "response_model_exclude_none", "include_in_schema", "response_class", "name", "callbacks",
             "openapi_extra", "generate_unique_id_function", "strict_content_type", "max_body_size")


def include_routes(app: FastAPI, router: APIRouter) -> None:
    """Add a module's routes to the application's own router, each as it was declared. FastAPI's
    `include_router` keeps an included router as a group that it walks at every request and the
    direct router cannot see into; our routers have no prefix or settings of their own that an
    inclusion would add, so their routes are the application's as they are."""
    if router.prefix or router.dependencies or router.routes and not all(isinstance(r, APIRoute) for r in router.routes):
        raise ValueError("only a router of plain routes, without a prefix or dependencies, is included route by route")
    for route in router.routes:
        app.router.add_api_route(route.path, route.endpoint, **{name: getattr(route, name) for name in _DECLARED})


def use_direct_router(app: FastAPI) -> FastAPI:
    """The application with a DirectRouter. FastAPI makes its router itself (no parameter chooses
    its class); DirectRouter adds behaviour only, so the router made is given that class. Starlette's
    router calls the `app` it was made with (kept as `middleware_stack` when it has no middleware of
    its own, as ours never have): that is pointed at the new class's."""
    router = app.router
    if router.middleware_stack != router.app:
        raise ValueError("a router with middleware of its own keeps FastAPI's routing")
    router.__class__ = DirectRouter
    router.middleware_stack = router.app
    return app


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of the application answers at this request's path (each verb is its own
    route, and Starlette's 405 names only the first route that matched the path): for `Allow`."""
    methods: set[str] = set()
    probe = {**scope, "method": "GET"}
    for route in app.router.routes:  # the routes are added to the app's own router: a flat list
        match, _ = route.matches(probe)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})
