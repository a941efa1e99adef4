"""A revoked credential is refused by the very next request of every worker (issue 15 §2).

Comptoir keeps no credential cache: the first statement of each request's unit of work reads the
credential (docs/decisions/0018-request-path.md). This proves it where a cache would fail: with
`comptoir serve --workers 2`, a keep-alive connection to each worker, both having just answered the
credential, then revoked (by the CLI's service, in another process), then asked again at once.
"""

from __future__ import annotations

from comptoir.services.access import credentials

from ..serve_support import one_connection_per_worker, serving


def test_revocation_reaches_every_worker_at_the_next_request(database_url, context, org, tmp_path):
    oneup_auth = (org.oneup.email, org.oneup.api_key)
    upflow_headers = {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}
    with serving(database_url, tmp_path) as (base, process), one_connection_per_worker(base, process) as workers:
        for worker in workers:  # each worker has served both credentials: what a cache would keep
            assert worker.get("/oneup/v1/customers", auth=oneup_auth).status_code == 200
            assert worker.get("/upflow/v1/customers", headers=upflow_headers).status_code == 200

        credentials.revoke(context.database, org.id, "oneup", org.oneup.email, "Key leaked")
        for worker in workers:
            refused = worker.get("/oneup/v1/customers", auth=oneup_auth)
            assert refused.status_code == 401, refused.text
            # The other credential of the organization still works: the revocation is that key's alone.
            assert worker.get("/upflow/v1/customers", headers=upflow_headers).status_code == 200

        credentials.revoke(context.database, org.id, "upflow", org.upflow["api_key"], "Rotated")
        for worker in workers:
            assert worker.get("/upflow/v1/customers", headers=upflow_headers).status_code == 401
