"""An error nothing answered (a bug, a table gone) is a 500 in the dialect's format, and the server keeps
the client's keep-alive connection (issue 16 §9): Starlette's last resort answered, then raised again,
and uvicorn closed the connection. Through a real `comptoir serve` on a throwaway SQLite book whose
tables are renamed under it (whatever database the rest of the suite runs on)."""

from __future__ import annotations

import sqlite3

import httpx

from comptoir.services.tenancy.organizations import create_organization

from .conftest import make_context
from .serve_support import serving


def _local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def test_a_500_is_in_the_dialects_format_and_keeps_the_connection(tmp_path):
    path = tmp_path / "broken.sqlite3"
    url = f"sqlite:///{path}"
    context = make_context(url, tmp_path)
    context.database.migrate()
    org = create_organization(context.database, "Broken Co")
    context.database.dispose()
    with serving(url, tmp_path, workers=1) as (base, _):
        with sqlite3.connect(path) as book:
            book.execute("ALTER TABLE projects RENAME TO projects_gone")
            book.execute("ALTER TABLE numbering_series RENAME TO numbering_series_gone")
        token = httpx.post(f"{base}/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                           data={"grant_type": "client_credentials"}).json()["access_token"]
        with httpx.Client(base_url=base, timeout=10) as client:
            auth = (org.oneup.email, org.oneup.api_key)
            broken = client.get("/oneup/v1/projects", auth=auth)
            assert broken.status_code == 500, broken.text
            assert broken.json()["error"]["code"] == "0"
            fine = client.get("/oneup/v1/customers", auth=auth)
            assert fine.status_code == 200
            assert _local_port(fine) == _local_port(broken)  # the same connection: it was kept
            quipu = client.get("/quipu/numbering_series", headers={"Authorization": f"Bearer {token}"})
            assert quipu.status_code == 500
            assert quipu.json()["errors"][0]["status"] in (500, "500")
            assert _local_port(quipu) == _local_port(broken)
    assert "unexpected error answering GET /oneup/v1/projects" in (tmp_path / "serve.log").read_text()
