"""The Zoom simulator's HTML page frame, beside the shared request/response pair (simulators.common)."""

from __future__ import annotations

import html

from simulators.common import Request, Response, empty_response, esc, json_response, redirect, with_query

# The shared plumbing, imported from here by the Zoom simulator's modules.
__all__ = ["Request", "Response", "empty_response", "esc", "json_response", "page", "redirect", "with_query"]


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f6fa; color: #232333; margin: 0; }
header { background: #0b5cff; color: #fff; padding: 14px 24px; font-weight: 600; display: flex;
         justify-content: space-between; align-items: center; }
header a { color: #fff; }
main { max-width: 520px; margin: 40px auto; background: #fff; border-radius: 12px; padding: 28px 32px;
       box-shadow: 0 2px 10px rgba(0,0,0,.08); }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: 14px 0 4px; font-weight: 600; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: 9px; box-sizing: border-box;
       border: 1px solid #c5c8d0; border-radius: 8px; font-size: 1rem; }
button { margin-top: 18px; padding: 10px 20px; font-size: 1rem; border-radius: 8px; border: 1px solid #0b5cff;
         background: #0b5cff; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0b5cff; }
.error { color: #b00020; background: #fdecee; border-radius: 8px; padding: 10px 12px; }
.muted { color: #6e7680; font-size: .9rem; }
ul.scopes li { margin: 4px 0; font-family: ui-monospace, monospace; font-size: .9rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }
dt { font-weight: 600; }
"""


def page(title: str, body_html: str, *, status: int = 200, signed_in_as: str = "", sign_out_url: str = "") -> Response:
    """A simple page in the simulator's frame; every dynamic value in `body_html` must already be escaped."""
    account = ""
    if signed_in_as:
        account = f'<span>{html.escape(signed_in_as)} · <a href="{html.escape(sign_out_url)}">Sign out</a></span>'
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - Zoom (simulated)</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body>"
        f"<header><span>zoom <small>(simulator)</small></span>{account}</header>"
        f"<main>{body_html}</main></body></html>"
    )
    return Response(status, document.encode(), [("Content-Type", "text/html; charset=utf-8")])
