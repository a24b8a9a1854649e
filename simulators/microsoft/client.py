"""A client for the admin API under /_sim/, used by tests (through SimServer) and `python -m simulators.microsoft ctl`."""

from __future__ import annotations

from urllib.parse import quote

from simulators import common
from simulators.common import AdminAPIError  # noqa: F401  (raised by every call; importers catch it from here)


class AdminClient(common.AdminClient):
    def advance_clock(self, seconds: float) -> dict:
        return self.call("POST", "clock", {"advance_seconds": seconds})

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
