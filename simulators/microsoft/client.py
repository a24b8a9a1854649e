"""A client for the admin API under /_sim/, used by tests (through SimServer) and `python -m simulators.microsoft ctl`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode


class AdminAPIError(Exception):
    pass


class AdminClient:
    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        url = f"{self.url}/_sim/{path.lstrip('/')}"
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise AdminAPIError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc

    def clock(self) -> dict:
        return self.call("GET", "clock")

    def advance_clock(self, seconds: float) -> dict:
        return self.call("POST", "clock", {"advance_seconds": seconds})

    def freeze_clock(self, frozen: bool = True) -> dict:
        return self.call("POST", "clock", {"freeze": frozen})

    def state(self) -> dict:
        return self.call("GET", "state")

    def reset(self) -> dict:
        return self.call("POST", "reset")

    def users(self) -> list[dict]:
        return self.call("GET", "users")["users"]

    def add_user(self, email: str, **fields) -> list[dict]:
        return self.call("POST", "users", {"email": email, **fields})["users"]

    def edit_user(self, email: str, **fields) -> dict:
        """licensed=, withheld_scopes= (permissions the grant never holds), mail=, password=."""
        return self.call("PATCH", f"users/{quote(email, safe='')}", fields)

    def apps(self) -> list[dict]:
        return self.call("GET", "apps")["apps"]

    def edit_app(self, client_id: str = "mssim-client-id", **fields) -> dict:
        """redirect_uris=[...], client_secret=, secret_expired=, multi_tenant=."""
        return self.call("PATCH", f"apps/{quote(client_id, safe='')}", fields)

    def set_redirect_uris(self, *uris: str) -> dict:
        return self.edit_app(redirect_uris=list(uris))

    def consents(self) -> list[dict]:
        return self.call("GET", "consents")["consents"]

    def revoke_consent(self, email: str, client_id: str = "mssim-client-id") -> dict:
        return self.call("DELETE", f"consents/{quote(email, safe='')}", query={"client_id": client_id})

    def expire_access_tokens(self, email: str | None = None) -> dict:
        return self.call("POST", "tokens/expire", {"email": email} if email else {})

    def meetings(self, *, include_deleted: bool = False) -> list[dict]:
        rows = self.call("GET", "meetings")["meetings"]
        return rows if include_deleted else [row for row in rows if not row["deleted"]]

    def delete_meeting(self, meeting_id: str) -> dict:
        """Delete a meeting in "Teams", behind the site's back."""
        return self.call("DELETE", f"meetings/{quote(meeting_id, safe='')}")

    def set_throttle(self, *, requests: int, window_seconds: float = 1) -> dict:
        return self.call("POST", "throttle", {"requests": requests, "window_seconds": window_seconds})

    def faults(self) -> dict:
        return self.call("GET", "faults")

    def set_faults(self, **payload) -> dict:
        return self.call("POST", "faults", payload)

    def queue_fault(self, route: str, fault: str, count: int = 1) -> dict:
        return self.call("POST", "faults/queue", {"route": route, "fault": fault, "count": count})

    def clear_faults(self) -> dict:
        return self.call("DELETE", "faults")

    def requests(self, since: int = 0) -> list[dict]:
        return self.call("GET", "requests", query={"since": since})["requests"]

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def settings(self, **values) -> dict:
        return self.call("POST", "settings", values) if values else self.call("GET", "settings")
