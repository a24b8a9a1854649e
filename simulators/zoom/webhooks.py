"""Webhooks out to an app's endpoint, signed the way Zoom signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request

DELIVERY_TIMEOUT = 3.0  # Zoom expects an answer within 3 seconds
RETRY_DELAYS = (5 * 60, 20 * 60, 60 * 60)  # after a failed attempt: 5, then 20, then 60 minutes; then dropped


def signature(secret: str, timestamp: str, body: bytes) -> str:
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Webhooks:
    def __init__(self, sim):
        self.sim = sim
        self._lock = threading.Lock()
        self.deliveries: list[dict] = []
        self.pending: list[dict] = []  # retries: {"due", "attempt", "client_id", "envelope"}

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.pending.clear()

    @property
    def enabled(self) -> bool:
        """Off: no event is sent at all (a site without webhooks); kept in the store."""
        return bool(self.sim.store.get_setting("webhooks_enabled", True))

    def set_enabled(self, enabled: bool) -> None:
        self.sim.store.set_setting("webhooks_enabled", bool(enabled))

    def send(
        self,
        app: dict,
        event: str,
        payload: dict,
        *,
        retry: bool = True,
        event_ts: float | None = None,
        top_level: dict | None = None,
    ) -> dict:
        """POST one event to the app's webhook URL; returns (and logs) what happened.

        An answer other than 200/204 within 3 seconds schedules a retry on the simulator clock. `event_ts` (unix
        seconds) defaults to the simulator clock; `top_level` adds keys beside `payload` in the envelope.
        """
        when = self.sim.clock.now() if event_ts is None else event_ts
        envelope = {"event": event, "event_ts": int(when * 1000), "payload": payload, **(top_level or {})}
        if not self.enabled and event != "endpoint.url_validation":
            return self._log(self._record(app, envelope, event, 1) | {"error": "not sent: webhooks are switched off"})
        record = self._post(app, envelope, event, attempt=1)
        if retry and app["webhook_url"] and not record["delivered"]:
            self._schedule(app["client_id"], envelope, attempt=1)
        return record

    def _schedule(self, client_id: str, envelope: dict, attempt: int) -> None:
        if attempt > len(RETRY_DELAYS):
            return
        due = self.sim.clock.now() + RETRY_DELAYS[attempt - 1]
        with self._lock:
            self.pending.append({"due": due, "attempt": attempt + 1, "client_id": client_id, "envelope": envelope})

    def run_due(self) -> int:
        """Send the retries whose time has come on the simulator clock; returns how many were sent."""
        now = self.sim.clock.now()
        with self._lock:
            due = [item for item in self.pending if item["due"] <= now]
            self.pending = [item for item in self.pending if item["due"] > now]
        for item in due:
            app = self.sim.store.one("SELECT * FROM apps WHERE client_id = ?", (item["client_id"],))
            if not app or not self.enabled:
                continue
            record = self._post(app, item["envelope"], item["envelope"]["event"], attempt=item["attempt"])
            if not record["delivered"]:
                self._schedule(app["client_id"], item["envelope"], item["attempt"])
        return len(due)

    def _record(self, app: dict, envelope: dict, event: str, attempt: int) -> dict:
        return {
            "event": event,
            "client_id": app["client_id"],
            "url": app["webhook_url"],
            "status": None,
            "error": "",
            "attempt": attempt,
            "delivered": False,
            "body": envelope,
        }

    def _post(self, app: dict, envelope: dict, event: str, attempt: int) -> dict:
        record = self._record(app, envelope, event, attempt)
        if not app["webhook_url"]:
            record["error"] = "the app has no webhook URL"
            return self._log(record)
        raw = json.dumps(envelope).encode()
        # Transport freshness uses real time (the receiver checks it against its own clock); event_ts uses the
        # simulator clock like every other domain time.
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            app["webhook_url"],
            data=raw,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Zoom Marketplace/1.0a",
                "x-zm-request-timestamp": timestamp,
                "x-zm-signature": signature(app["webhook_secret"], timestamp, raw),
                "x-zm-trackingid": "v=2.0;clid=us06;rid=" + secrets.token_hex(8),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as answer:
                record["status"] = answer.status
                record["response"] = answer.read(4096).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
            record["response"] = exc.read(4096).decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            record["error"] = str(getattr(exc, "reason", exc))
        record["delivered"] = record["status"] in (200, 204)
        return self._log(record)

    def _log(self, record: dict) -> dict:
        with self._lock:
            self.deliveries.append(record)
        return record

    def validate_url(self, app: dict) -> dict:
        """Send endpoint.url_validation and check the app answers with the right encryptedToken."""
        plain = secrets.token_urlsafe(16)
        record = self.send(app, "endpoint.url_validation", {"plainToken": plain}, retry=False)
        expected = hmac.new(app["webhook_secret"].encode(), plain.encode(), hashlib.sha256).hexdigest()
        result = {"ok": False, "status": record["status"], "error": record["error"], "plainToken": plain}
        if record["status"] != 200:
            result["error"] = result["error"] or f"the endpoint answered HTTP {record['status']}"
            return result
        try:
            answer = json.loads(record.get("response") or "")
        except ValueError:
            result["error"] = "the answer is not JSON"
            return result
        if not isinstance(answer, dict) or answer.get("plainToken") != plain:
            result["error"] = "the answer's plainToken differs"
        elif answer.get("encryptedToken") != expected:
            result["error"] = "the answer's encryptedToken is not HMAC-SHA256(secret token, plainToken)"
        else:
            result["ok"] = True
        return result

    def meeting_event(
        self, meeting: dict, host: dict, event: str, extra: dict | None = None, client_id: str | None = None
    ) -> list[dict]:
        """Send a meeting event to the host's apps (or one app); the envelope Zoom uses for meeting events."""
        payload = {
            "account_id": host["account_id"],
            "operator": host["email"],
            "operator_id": host["id"],
            "object": event_object(meeting),
            **(extra or {}),
        }
        return [self.send(app, event, payload) for app in self.targets(host, client_id)]

    def host_event(
        self,
        host: dict,
        event: str,
        obj: dict,
        *,
        at: float | None = None,
        client_id: str | None = None,
        extra: dict | None = None,
        top_level: dict | None = None,
    ) -> list[dict]:
        """An event about something that happened in a meeting (started, participant joined, recording completed),
        at the time it happened: `payload = {account_id, object, **extra}`."""
        payload = {"account_id": host["account_id"], "object": obj, **(extra or {})}
        return [
            self.send(app, event, payload, event_ts=at, top_level=top_level) for app in self.targets(host, client_id)
        ]

    def targets(self, host: dict, client_id: str | None = None) -> list[dict]:
        if client_id:
            app = self.sim.store.one("SELECT * FROM apps WHERE client_id = ?", (client_id,))
            return [app] if app else []
        return self.apps_for_user(host["id"])

    def meeting_event_later(self, meeting: dict, host: dict, event: str, extra: dict | None = None) -> None:
        """As Zoom does for changes made through the API: sent after the answer, from another thread."""
        if not self.sim.limits.api_change_webhooks:
            return
        threading.Thread(target=self.meeting_event, args=(meeting, host, event, extra), daemon=True).start()

    def apps_for_user(self, user_id: str) -> list[dict]:
        """Apps with a webhook URL that this user has authorised and not revoked."""
        return self.sim.store.all(
            "SELECT DISTINCT apps.* FROM apps JOIN tokens ON tokens.client_id = apps.client_id"
            " WHERE tokens.user_id = ? AND tokens.revoked = 0 AND tokens.kind = 'refresh' AND apps.webhook_url != ''",
            (user_id,),
        )


def event_object(meeting: dict) -> dict:
    return {
        key: meeting[key] for key in ("id", "uuid", "host_id", "topic", "type", "start_time", "duration", "timezone")
    }
