"""Notifications about virtual meetings: the owner and the event's trainers hear about failures.

virtualmeeting sends signals after commit; seminars knows whom to tell.
"""

from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.urls import reverse

from seminars.meetings import parse_reference
from seminars.models import Enrolment, Session
from seminars.permissions import TRAINER_ROLES
from virtualmeeting import signals


def _session_for(meeting):
    parts = parse_reference(meeting.reference)
    if parts is None:
        return None
    return Session.objects.select_related("event__seminar__course", "room").filter(pk=parts[1]).first()


def _recipients(meeting, session):
    User = get_user_model()
    ids = set(
        Enrolment.objects.filter(course=session.event.seminar.course, role__in=TRAINER_ROLES).values_list(
            "user_id", flat=True
        )
    )
    if meeting.owner_id:
        ids.add(meeting.owner_id)
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _describe(session):
    local = session.start.astimezone(ZoneInfo(session.time_zone))
    return f"{session.event.seminar.name}: {session.event.title}, {local:%a %-d %b %Y %H:%M} ({session.time_zone})"


def _notify_about(meeting, subject, lead):
    from seminars.notifications import notify

    session = _session_for(meeting)
    if session is None:
        return
    from virtualmeeting.selectors import meeting_status_text

    room_url = reverse("seminars:room", args=[session.room_id]) if session.room_id else session.event.get_absolute_url()
    body = f"{lead}\n\nSession: {_describe(session)}\nRoom: {session.room.name if session.room else '-'}\n\n{meeting_status_text(meeting)}"
    notify(users=_recipients(meeting, session), subject=subject, body=body, url=room_url)


_FAILURE_SUBJECTS = {
    "create": "Virtual meeting creation failure",
    "update": "Virtual meeting update failure",
    "delete": "Virtual meeting deletion failure",
}


@receiver(signals.meeting_failed)
def notify_meeting_failed(sender, meeting, operation="create", **kwargs):
    subject = _FAILURE_SUBJECTS.get(operation, "Virtual meeting failure")
    _notify_about(meeting, subject, "A virtual meeting for this session could not be kept up to date.")


@receiver(signals.meeting_waiting)
def notify_meeting_waiting(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        "Virtual meeting waiting for the provider's daily limit",
        "The meeting will be created or updated automatically when the limit resets; nothing needs re-saving.",
    )


@receiver(signals.meeting_recreated)
def notify_meeting_recreated(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        "Virtual meeting re-created",
        "The meeting was deleted at the provider outside the LMS, so it was created again. Its join link changed.",
    )


@receiver(signals.connection_revoked)
def notify_connection_revoked(sender, connection, **kwargs):
    from seminars.notifications import notify

    notify(
        users=[connection.user],
        subject="Reconnect your meeting account",
        body=(
            f"Your {connection.provider} connection ({connection.name} {connection.email}) no longer works: "
            f"{connection.status_message or 'access was revoked'}. Open a room's settings and click Connect to "
            "reconnect; your meetings will then be created and updated again."
        ),
        url=reverse("seminars:dashboard"),
    )
