"""A client for the admin API under /_sim/, used by tests (through SimServer) and by `python -m simulators.zoom ctl`."""

from __future__ import annotations

from urllib.parse import quote

from simulators import common
from simulators.common import AdminAPIError  # noqa: F401  (raised by every call; importers catch it from here)


def _given(body: dict) -> dict:
    return {key: value for key, value in body.items() if value is not None}


class AdminClient(common.AdminClient):
    # clock
    def set_clock(self, *, now: str | None = None, offset_seconds: float | None = None) -> dict:
        body = {"now": now} if now is not None else {"offset_seconds": offset_seconds or 0}
        return self.call("POST", "clock", body)

    def advance_clock(self, seconds: float) -> dict:
        return self.call("POST", "clock", {"advance_seconds": seconds})

    # state
    def state(self) -> dict:
        return self.call("GET", "state")

    def reset(self) -> dict:
        return self.call("POST", "reset")

    def users(self) -> list[dict]:
        return self.call("GET", "users")["users"]

    def add_users(self, account_id: str = "acctA-zoomsim00000001", *, users: list[dict] | None = None, **made_up):
        """Seed the account with `users` ([{email, first_name, last_name, type, timezone, status}]), or with
        `count=N` made-up licensed users (`type`, `status`, `email_prefix`)."""
        body = {"account_id": account_id, **({"users": users} if users is not None else made_up)}
        return self.call("POST", "users", body)["users"]

    def edit_user(self, email: str, **fields) -> dict:
        return self.call("PATCH", f"users/{quote(email)}", fields)

    def apps(self) -> list[dict]:
        return self.call("GET", "apps")["apps"]

    def register_app(self, **fields) -> dict:
        return self.call("POST", "apps", fields)

    def edit_app(self, client_id: str, **fields) -> dict:
        return self.call("PATCH", f"apps/{quote(client_id)}", fields)

    def set_account_plan(self, account_id: str, plan: str) -> dict:
        return self.call("POST", f"accounts/{quote(account_id)}", {"plan": plan})

    def meetings(self, host: str | None = None) -> list[dict]:
        return self.call("GET", "meetings", query={"host": host} if host else None)["meetings"]

    # limits and quota
    def limits(self, **config) -> dict:
        return self.call("POST", "limits", config) if config else self.call("GET", "limits")

    def quota(self, email: str) -> dict:
        return self.call("GET", f"users/{quote(email)}/quota")

    def exhaust_quota(self, email: str) -> dict:
        return self.call("POST", f"users/{quote(email)}/quota", {"exhaust": True})

    def set_quota_used(self, email: str, used: int) -> dict:
        return self.call("POST", f"users/{quote(email)}/quota", {"used": used})

    def revoke_tokens(self, email: str, client_id: str | None = None) -> dict:
        return self.call("POST", f"users/{quote(email)}/revoke_tokens", {"client_id": client_id} if client_id else {})

    # faults
    def faults(self) -> dict:
        return self.call("GET", "faults")

    def set_faults(self, **config) -> dict:
        return self.call("POST", "faults", config)

    def clear_faults(self) -> dict:
        return self.call("DELETE", "faults")

    def next_fault(self, route: str, fault: str, count: int = 1) -> dict:
        return self.call("POST", "faults/next", {"route": route, "fault": fault, "count": count})

    # manual changes "in Zoom", and webhooks
    def edit_meeting(self, meeting_id, **fields) -> dict:
        return self.call("PATCH", f"meetings/{meeting_id}", fields)

    def delete_meeting(self, meeting_id, notify: bool = True) -> dict:
        return self.call("DELETE", f"meetings/{meeting_id}", query=None if notify else {"notify": "0"})

    # meetings in progress: occurrences and participants (times: ISO, or seconds after the start; default now)
    def start_meeting(
        self,
        meeting_id,
        *,
        at: str | None = None,
        uuid: str | None = None,
        host_joins: bool = True,
        client_id: str | None = None,
    ) -> str:
        """Start an occurrence of the meeting (`meeting.started`; the host joins too unless told not to).

        Returns the occurrence's uuid: the meeting's own for its first occurrence, a new one after that, or `uuid`.
        """
        body = {"at": at, "uuid": uuid, "host_joins": host_joins, "client_id": client_id}
        return self.call("POST", f"meetings/{meeting_id}/start", _given(body))["uuid"]

    def end_meeting(self, meeting, *, at: str | float | None = None, client_id: str | None = None) -> dict:
        """End the occurrence in progress (a meeting id) or the occurrence with this uuid: everyone still in leaves
        (`meeting.participant_left`), then `meeting.ended` with `end_time`."""
        body = _given({"at": at, "client_id": client_id})
        if isinstance(meeting, int) or str(meeting).isdigit():
            return self.call("POST", f"meetings/{meeting}/end", body)
        return self.call("POST", "occurrences/end", {"uuid": meeting, **body})

    def participant_join(
        self,
        uuid: str,
        *,
        registrant_id: str | None = None,
        name: str | None = None,
        email: str | None = None,
        in_account: bool | None = None,
        participant_uuid: str | None = None,
        at: str | float | None = None,
        client_id: str | None = None,
    ) -> str:
        """Someone joins the occurrence from one device (`meeting.participant_joined`); returns its participant_uuid.

        `registrant_id`: through that registrant's own link. Otherwise `name`/`email` (anyone else meets Zoom's
        registration form first when the meeting requires registration, and becomes a registrant). `in_account`:
        signed in to the host's account (then Zoom reports their email; default: true only for a seeded user of
        that account). `participant_uuid`: rejoin from the same device (omit it for another device).
        """
        body = {
            "uuid": uuid,
            "registrant_id": registrant_id,
            "name": name,
            "email": email,
            "in_account": in_account,
            "participant_uuid": participant_uuid,
            "at": at,
            "client_id": client_id,
        }
        return self.call("POST", "participants/join", _given(body))["participant_uuid"]

    def participant_leave(
        self,
        uuid: str,
        participant_uuid: str,
        *,
        at: str | float | None = None,
        reason: str | None = None,
        client_id: str | None = None,
    ) -> dict:
        """That device leaves the occurrence (`meeting.participant_left` with `leave_time` and `leave_reason`)."""
        body = {"uuid": uuid, "participant_uuid": participant_uuid, "at": at, "reason": reason, "client_id": client_id}
        return self.call("POST", "participants/leave", _given(body))

    def occurrences(self, meeting_id=None) -> list[dict]:
        """Occurrences (uuid, started_at, ended_at, ready_at) with their join sessions (`participants`)."""
        return self.call("GET", "occurrences", query={"meeting": meeting_id} if meeting_id else None)["occurrences"]

    # cloud recordings of an ended occurrence
    def add_recording(
        self, uuid: str, *, passcode: str | None = None, files: list[dict] | None = None, client_id: str | None = None
    ) -> dict:
        """The occurrence's cloud recording is ready: `recording.completed`. Needs a licensed host, the meeting's
        `auto_recording: cloud`, and an ended occurrence. `passcode`: None for a random one, "" for none.
        `files`: [{file_type, recording_type}] (default an MP4 and an M4A). Returns {recording, download_token,
        webhooks}: `recording` is what GET /meetings/{uuid}/recordings answers."""
        body = {"uuid": uuid, "passcode": passcode, "files": files, "client_id": client_id}
        return self.call("POST", "recordings", _given(body))

    def trash_recording(self, uuid: str) -> dict:
        """To the trash (`recording.trashed`): no longer listed or playable."""
        return self.call("POST", "recordings/trash", {"uuid": uuid})

    def delete_recording(self, uuid: str) -> dict:
        """Deleted for good (`recording.deleted`)."""
        return self.call("POST", "recordings/delete", {"uuid": uuid})

    def recover_recording(self, uuid: str) -> dict:
        """Back from the trash (`recording.recovered`)."""
        return self.call("POST", "recordings/recover", {"uuid": uuid})

    def recordings(self, meeting_id=None) -> list[dict]:
        return self.call("GET", "recordings", query={"meeting": meeting_id} if meeting_id else None)["recordings"]

    def set_participants_delay(self, seconds: float) -> dict:
        """How long after a meeting ends (simulator clock) GET /past_meetings/{uuid}/participants has data."""
        return self.limits(participants_delay_seconds=seconds)

    def set_webhooks(self, enabled: bool) -> dict:
        """Switch every webhook off (a site without webhooks: nothing is sent or retried) or back on."""
        return self.call("POST", "webhooks", {"enabled": enabled})

    # registrants
    def registrants(self, meeting_id) -> list[dict]:
        """Every registrant of the meeting (approved, pending, denied, cancelled), with `emails` Zoom would have sent."""
        return self.call("GET", f"meetings/{meeting_id}/registrants")["registrants"]

    def emails(self, meeting_id=None) -> list[dict]:
        """The registrant emails Zoom would have sent (kind: confirmation, approved, cancelled, denied)."""
        return self.call("GET", "emails", query={"meeting": meeting_id} if meeting_id else None)["emails"]

    def validate_webhook(self, client_id: str) -> dict:
        return self.call("POST", f"apps/{quote(client_id)}/validate_webhook", {})

    def deauthorize(self, client_id: str, email: str, force: bool = False) -> dict:
        return self.call("POST", f"apps/{quote(client_id)}/deauthorize", {"email": email, "force": force})

    def webhook_deliveries(self) -> list[dict]:
        return self.call("GET", "webhooks")["deliveries"]

    def webhook_retries(self) -> list[dict]:
        return self.call("GET", "webhooks")["pending"]

    # request log
    def requests(self, since: int = 0) -> list[dict]:
        return self.call("GET", "requests", query={"since": since})["requests"]

    def clear_requests(self) -> dict:
        return self.call("DELETE", "requests")
