"""Bearer links stay out of the access log (issue 16 §10): the signed token of a portal link, an Upflow
PDF link or a Quipu download link is written `[redacted]` in `comptoir serve`'s access log, wherever it
sits in the URL; the rest of the line is kept."""

from __future__ import annotations

import httpx

from comptoir.services.access import links
from comptoir.services.reporting import portal

from .serve_support import serving


def test_signed_tokens_are_redacted_in_the_access_log(database_url, org, tmp_path):
    token = portal.issue("a secret of another server", org.id, "a-customer", 3600, ())
    assert "." in token and len(token) > 40
    pdf_token = links.sign("another secret", "comptoir.upflow.pdf", {"d": 1}, 2_000_000_000)
    with serving(database_url, tmp_path, workers=1) as (base, _):
        for path in (f"/portal/{token}", f"/portal/{token}/invoices/abc.pdf", f"/upflow/v1/documents/{pdf_token}",
                     f"/quipu/invoices/1/ephemeral_open_download?token={pdf_token}&x=1"):
            assert httpx.get(base + path, timeout=10).status_code in (401, 403, 404, 410)
        httpx.get(base + "/healthz?probe=1", timeout=10)
    log = (tmp_path / "serve.log").read_text()
    assert token not in log and pdf_token not in log
    assert log.count("[redacted]") == 4, log[-2000:]
    assert '"GET /portal/[redacted]/invoices/abc.pdf HTTP/1.1" 404' in log
    assert "ephemeral_open_download?token=[redacted]&x=1" in log
    assert '"GET /healthz?probe=1 HTTP/1.1" 200' in log  # the rest of the log as it was
