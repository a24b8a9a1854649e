"""Signals for the apps that own meetings (seminars sends notifications from them).

All are sent after the database transaction that recorded the change has
committed, so a receiver sees the row as stored and may enqueue work. They are
sent robustly: a receiver that raises is logged (by Django) and neither stops
the other receivers nor reaches the request or task that made the change.

- meeting_failed(meeting, operation): a meeting's operation ("create",
  "update" or "delete") failed and needs a person (permanent error, owner
  must reconnect, retries exhausted).
- meeting_waiting(meeting): a provider's daily limit was reached; the meeting
  waits until `meeting.next_attempt_at`.
- meeting_available(meeting): a sync left the meeting available (after a
  create, an update or a re-creation).
- meeting_recreated(meeting): the meeting had been deleted at the provider
  behind our back and was created again (its join URL changed).
- meeting_left_behind(meeting, remote_id, owner, host): a meeting handed to
  another owner or host was made there, but its old remote meeting could not
  be deleted (the connection it lives in is no longer usable and the provider
  has no site account to delete it with, or the provider refused): a person
  must delete the meeting `remote_id` by hand, in `owner`'s own account (a
  user, or None when unknown) or, when `host` is not "", for that host of the
  site's account. Sent once.
- connection_revoked(connection): a user's connection stopped working; they
  must connect again.
- participation_updated(meeting, occurrence): participants (join/leave
  intervals) or the start/end of an occurrence were recorded or changed, or
  the poll got the provider's complete list (occurrence.participants_done_at).
- recordings_updated(meeting): a meeting's recordings were added or changed
  status (trashed, deleted, recovered).
"""

from django.db import transaction
from django.dispatch import Signal

meeting_failed = Signal()
meeting_waiting = Signal()
meeting_available = Signal()
meeting_recreated = Signal()
meeting_left_behind = Signal()
connection_revoked = Signal()
participation_updated = Signal()
recordings_updated = Signal()


def send_meeting_signal_on_commit(signal: Signal, meeting, **extra) -> None:
    from virtualmeeting.models import VirtualMeeting

    def send():
        signal.send_robust(sender=VirtualMeeting, meeting=meeting, **extra)

    transaction.on_commit(send, robust=True)


def send_connection_revoked_on_commit(connection) -> None:
    from virtualmeeting.models import ProviderConnection

    def send():
        connection_revoked.send_robust(sender=ProviderConnection, connection=connection)

    transaction.on_commit(send, robust=True)


def send_meeting_left_behind_on_commit(meeting, *, remote_id: str, owner, host: str) -> None:
    from virtualmeeting.models import VirtualMeeting

    def send():
        meeting_left_behind.send_robust(
            sender=VirtualMeeting, meeting=meeting, remote_id=remote_id, owner=owner, host=host
        )

    transaction.on_commit(send, robust=True)
