"""A tiny request/response pair over http.server, and the HTML page frame."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    route: str = ""  # set by the router: "meetings.create", "oauth.token", ...
    raw_path: str = ""  # the path as sent, still percent-encoded (`path` is decoded once)

    @property
    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:
            return {}
        return {key: morsel.value for key, morsel in jar.items()}

    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", "") and self.method != "POST":
            return {}
        try:
            text = self.body.decode()
        except UnicodeDecodeError:
            return {}
        return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}

    def json(self):
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode() or "null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # "close": drop the connection without an answer; "hang": wait `hang_seconds`, then drop it.
    action: str = ""
    hang_seconds: float = 0.0

    def header(self, name: str, value) -> Response:
        self.headers.append((name, str(value)))
        return self

    def get_header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_response(status: int, payload) -> Response:
    return Response(status, json.dumps(payload).encode(), [("Content-Type", "application/json;charset=UTF-8")])


def empty_response(status: int = 204) -> Response:
    return Response(status, b"")


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", [("Location", location)])


def with_query(url: str, params: dict[str, str]) -> str:
    params = {key: value for key, value in params.items() if value is not None}
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


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


esc = html.escape
