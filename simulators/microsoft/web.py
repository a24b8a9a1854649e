"""The simulated Microsoft sign-in pages' frame, and the identity platform's and Graph's error bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from simulators.common import Response, esc, json_response

STYLE = """
body { font-family: "Segoe UI", system-ui, sans-serif; background: #f2f2f2; color: #1b1b1b; margin: 0; }
main { max-width: 440px; margin: 60px auto; background: #fff; padding: 36px 44px; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
.brand { font-weight: 600; color: #5e5e5e; margin-bottom: 16px; }
h1 { font-size: 1.5rem; font-weight: 600; margin: 0 0 16px; }
label { display: block; margin: 12px 0 4px; }
input[type=email], input[type=password] { width: 100%; padding: 6px 0; border: 0; border-bottom: 1px solid #666;
       font-size: 1rem; box-sizing: border-box; }
button { margin: 20px 8px 0 0; padding: 6px 28px; font-size: 1rem; border: 1px solid #0067b8; background: #0067b8;
         color: #fff; cursor: pointer; }
button.secondary { background: #ccc; border-color: #ccc; color: #1b1b1b; }
.error { color: #e81123; }
.muted { color: #5e5e5e; font-size: .9rem; }
ul.scopes li { margin: 6px 0; }
"""


def page(title: str, body_html: str, *, status: int = 200) -> Response:
    """A page in the simulated Microsoft frame; every dynamic value in `body_html` must already be escaped."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} - Microsoft (simulated)</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body><main>"
        '<div class="brand">Microsoft <small>(simulator)</small></div>'
        f"{body_html}</main></body></html>"
    )
    return Response(status, document.encode(), [("Content-Type", "text/html; charset=utf-8")])


def utc_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def aad_error(status: int, error: str, code: int, description: str, *, now: float) -> Response:
    """The identity platform's error answer: error, "AADSTSnnnn: ..." description, error_codes, ids."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    text = (
        f"AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {utc_text(now)}"
    )
    return json_response(
        status,
        {
            "error": error,
            "error_description": text,
            "error_codes": [code],
            "timestamp": utc_text(now),
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


def graph_error(status: int, code: str, message: str = "", *, now: float) -> Response:
    """Graph's error answer: {"error": {"code", "message", "innerError": {date, request-id, client-request-id}}}."""
    request_id = str(uuid.uuid4())
    response = json_response(
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": request_id,
                },
            }
        },
    )
    return response.header("request-id", request_id).header("client-request-id", request_id)
