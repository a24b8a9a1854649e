"""Notifications about virtual meetings: the owner and the event's trainers hear about failures.

virtualmeeting sends signals after commit; seminars knows whom to tell.
"""

from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.email_messages import NoticeEmail, session_description
from seminars.meetings import parse_reference
from seminars.models import Session
from seminars.outbox import absolute_url
from seminars.selectors.trainers import event_trainers
from seminars.services.attendance import session_attendance_refresh
from virtualmeeting import signals


def _session_for(meeting):
    parts = parse_reference(meeting.reference)
    if parts is None:
        return None
    return Session.objects.select_related("event__seminar__course", "room").filter(pk=parts[1]).first()


def _recipients(meeting, session):
    users = {user.pk: user for user in event_trainers(session.event)}
    if meeting.owner_id and meeting.owner_id not in users:
        owner = get_user_model().objects.filter(pk=meeting.owner_id, is_active=True).first()
        if owner is not None:
            users[owner.pk] = owner
    return sorted(users.values(), key=lambda user: user.pk)


def _notify_about(meeting, subject, lead, *, kind, values=None):
    from seminars.notifications import notify

    session = _session_for(meeting)
    if session is None:
        return
    from virtualmeeting.selectors import meeting_status_text

    room_url = reverse("seminars:room", args=[session.room_id]) if session.room_id else session.event.get_absolute_url()
    room_name = session.room.name if session.room else "-"
    status = str(meeting_status_text(meeting))
    session_line = _("Session: %(session)s") % {"session": session_description(session)}
    room_line = _("Room: %(room)s") % {"room": room_name}
    body = f"{lead}\n\n{session_line}\n{room_line}\n\n{status}"
    values = {
        "session": session_description(session),
        "room_name": room_name,
        "room_url": absolute_url(room_url),
        "meeting_status": status,
        **(values or {}),
    }
    email = NoticeEmail(kind, values, event_id=session.event_id)
    notify(users=_recipients(meeting, session), subject=subject, body=body, url=room_url, email=email)


_FAILURE_SUBJECTS = {
    "create": gettext_lazy("Virtual meeting creation failure"),
    "update": gettext_lazy("Virtual meeting update failure"),
    "delete": gettext_lazy("Virtual meeting deletion failure"),
}
# What {operation} says in the failure email.
_OPERATIONS = {
    "create": gettext_lazy("creation"),
    "update": gettext_lazy("update"),
    "delete": gettext_lazy("deletion"),
}


@receiver(signals.meeting_failed)
def notify_meeting_failed(sender, meeting, operation="create", **kwargs):
    subject = str(_FAILURE_SUBJECTS.get(operation) or _("Virtual meeting failure"))
    _notify_about(
        meeting,
        subject,
        _("A virtual meeting for this session could not be kept up to date."),
        kind="meeting_failed",
        values={"operation": str(_OPERATIONS.get(operation) or operation)},
    )


@receiver(signals.meeting_waiting)
def notify_meeting_waiting(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        _("Virtual meeting waiting for the provider's daily limit"),
        _("The meeting will be created or updated automatically when the limit resets; nothing needs re-saving."),
        kind="meeting_waiting",
    )


@receiver(signals.meeting_recreated)
def notify_meeting_recreated(sender, meeting, **kwargs):
    _notify_about(
        meeting,
        _("Virtual meeting re-created"),
        _("The meeting was deleted at the provider outside the LMS, so it was created again. Its join link changed."),
        kind="meeting_recreated",
    )


def _meeting_account(meeting, *, owner, host: str) -> str:
    """Where a left-behind meeting is, in words for a site admin: a host of the site's account, or a person's own."""
    from virtualmeeting.models import ProviderConnection
    from virtualmeeting.selectors import service_name

    service = service_name(meeting.provider)
    if host:
        return _("the site's %(service)s account, host %(host)s") % {"service": service, "host": host}
    if owner is None:
        return _("the %(service)s account of the meeting's previous owner") % {"service": service}
    connection = ProviderConnection.objects.filter(user=owner, provider=meeting.provider).first()
    named = " ".join(part for part in (connection.name, connection.email) if part) if connection else ""
    account = f" ({named})" if named else ""
    values = {"service": service, "who": owner.get_full_name() or owner.get_username(), "account": account}
    return _("the %(service)s account of %(who)s%(account)s") % values


@receiver(signals.meeting_left_behind)
def notify_meeting_left_behind(sender, meeting, remote_id, owner=None, host="", **kwargs):
    """A handed-over meeting's old remote meeting could not be deleted: the site admins delete it by hand."""
    from lms.permissions import site_admins
    from seminars.notifications import notify
    from virtualmeeting.selectors import service_name

    session = _session_for(meeting)
    service = service_name(meeting.provider)
    where = _meeting_account(meeting, owner=owner, host=host)
    values = {"provider": service, "meeting_id": remote_id, "meeting_account": where}
    lead = (
        _(
            "A session's meeting was handed to another owner or host and made again there. The old meeting could "
            "not be deleted automatically: please delete the %(provider)s meeting %(meeting_id)s in "
            "%(meeting_account)s. Learners already use the new meeting."
        )
        % values
    )
    if session is None:
        notify(users=site_admins(), subject=_("Delete a virtual meeting by hand"), body=lead)
        return
    room_url = reverse("seminars:room", args=[session.room_id]) if session.room_id else session.event.get_absolute_url()
    room_name = session.room.name if session.room else "-"
    session_line = _("Session: %(session)s") % {"session": session_description(session)}
    room_line = _("Room: %(room)s") % {"room": room_name}
    values.update(session=session_description(session), room_name=room_name, room_url=absolute_url(room_url))
    notify(
        users=site_admins(),
        subject=_("Delete a virtual meeting by hand: %(provider)s meeting %(meeting_id)s") % values,
        body=f"{lead}\n\n{session_line}\n{room_line}",
        url=room_url,
        email=NoticeEmail("meeting_left_behind", values, event_id=session.event_id),
    )


@receiver(signals.connection_revoked)
def notify_connection_revoked(sender, connection, **kwargs):
    from seminars.notifications import notify

    reason = connection.status_message or _("access was revoked")
    account = f"{connection.name} {connection.email}".strip()
    notify(
        users=[connection.user],
        subject=_("Reconnect your meeting account"),
        body=_(
            "Your %(provider)s connection (%(name)s %(email)s) no longer works: %(reason)s. Open a room's settings "
            "and click Connect to reconnect; your meetings will then be created and updated again."
        )
        % {"provider": connection.provider, "name": connection.name, "email": connection.email, "reason": reason},
        url=reverse("seminars:dashboard"),
        email=NoticeEmail(
            "connection_revoked",
            {
                "provider": connection.provider,
                "account": account,
                "reason": str(reason),
                "dashboard_url": absolute_url(reverse("seminars:dashboard")),
            },
        ),
    )


@receiver(signals.participation_updated)
def propose_attendance(sender, meeting, occurrence=None, **kwargs):
    """The meeting's participants changed: propose the session's attendance again (decisions stay)."""
    session = _session_for(meeting)
    if session is None:
        return
    session_attendance_refresh(session=session)
