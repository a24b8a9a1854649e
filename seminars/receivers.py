"""Notifications about virtual meetings: the owner and the event's trainers hear about failures.

virtualmeeting sends signals after commit; seminars knows whom to tell.
"""

from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.meetings import parse_reference
from seminars.models import Enrolment, Session
from seminars.permissions import TRAINER_ROLES
from seminars.services.attendance import session_attendance_refresh
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
    return f"{session.event.seminar.name}: {session.event.title}, {date_format(local, 'D j M Y H:i')} ({session.time_zone})"


def _notify_about(meeting, subject, lead):
    from seminars.notifications import notify

    session = _session_for(meeting)
    if session is None:
        return
    from virtualmeeting.selectors import meeting_status_text

    room_url = reverse("seminars:room", args=[session.room_id]) if session.room_id else session.event.get_absolute_url()
    session_line = _("Session: %(session)s") % {"session": _describe(session)}
    room_line = _("Room: %(room)s") % {"room": session.room.name if session.room else "-"}
    body = f"{lead}\n\n{session_line}\n{room_line}\n\n{meeting_status_text(meeting)}"
    notify(users=_recipients(meeting, session), subject=subject, body=body, url=room_url)


_FAILURE_SUBJECTS = {
    "create": gettext_lazy("Virtual meeting creation failure"),
    "update": gettext_lazy("Virtual meeting update failure"),
    "delete": gettext_lazy("Virtual meeting deletion failure"),
}


@receiver(signals.meeting_failed)
def notify_meeting_failed(sender, meeting, operation="create", **kwargs):
    subject = str(_FAILURE_SUBJECTS.get(operation) or _("Virtual meeting failure"))
    _notify_about(meeting, subject, _("A virtual meeting for this session could not be kept up to date."))


@receiver(signals.meeting_waiting)
def notify_meeting_waiting(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        _("Virtual meeting waiting for the provider's daily limit"),
        _("The meeting will be created or updated automatically when the limit resets; nothing needs re-saving."),
    )


@receiver(signals.meeting_recreated)
def notify_meeting_recreated(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        _("Virtual meeting re-created"),
        _("The meeting was deleted at the provider outside the LMS, so it was created again. Its join link changed."),
    )


@receiver(signals.connection_revoked)
def notify_connection_revoked(sender, connection, **kwargs):
    from seminars.notifications import notify

    notify(
        users=[connection.user],
        subject=_("Reconnect your meeting account"),
        body=_(
            "Your %(provider)s connection (%(name)s %(email)s) no longer works: %(reason)s. Open a room's settings "
            "and click Connect to reconnect; your meetings will then be created and updated again."
        )
        % {
            "provider": connection.provider,
            "name": connection.name,
            "email": connection.email,
            "reason": connection.status_message or _("access was revoked"),
        },
        url=reverse("seminars:dashboard"),
    )


@receiver(signals.participation_updated)
def propose_attendance(sender, meeting, occurrence=None, **kwargs):
    """The meeting's participants changed: propose the session's attendance again (decisions stay)."""
    session = _session_for(meeting)
    if session is None:
        return
    session_attendance_refresh(session=session)
