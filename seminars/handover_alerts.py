"""Telling site admins when a trainer's rooms need a new owner.

When a trainer is deactivated in the LMS, or their own connection to a provider is revoked, the meetings of
their rooms can no longer be changed (or the person who hears about them is gone). The site admins are told
which sessions still to start are affected, with the page that hands the rooms over one click away
(seminars:owner_handover). The handovers page lists the same from the current state, so a change that sent
no signal (a bulk update) is seen there too.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lms.permissions import site_admins
from seminars.email_messages import NoticeEmail, session_description
from seminars.models import Room
from seminars.outbox import absolute_url
from seminars.selectors.handovers import owner_rooms, rooms_sessions_to_start
from virtualmeeting import signals

log = logging.getLogger(__name__)
LISTED_SESSIONS = 10


def owner_handover_url(*, owner_id: int, provider: str = "") -> str:
    url = reverse("seminars:owner_handover", args=[owner_id])
    return f"{url}?{urlencode({'provider': provider})}" if provider else url


def owner_rooms_alert(*, owner_id: int, why: str, provider: str = "", own_connection_only: bool = False) -> int:
    """Tell the site admins that `owner_id`'s rooms need a new owner (`why`, in words), listing the sessions
    still to start; nothing when there are none. `own_connection_only`: only the rooms made in the owner's own
    connection (a revoked connection leaves rooms in the site's account working). Returns the sessions told of."""
    from seminars.notifications import notify

    owner = get_user_model().objects.filter(pk=owner_id).first()
    if owner is None:
        return 0
    rooms = owner_rooms(owner_id=owner_id, provider=provider or None)
    if own_connection_only:
        rooms = [room for room in rooms if not room.in_site_account]
    sessions = rooms_sessions_to_start(room_ids=[room.pk for room in rooms])
    admins = list(site_admins())
    if not sessions or not admins:
        return 0
    owner_name = owner.get_full_name() or owner.get_username()
    lines = [f"- {session_description(session)}: {session.room.name}" for session in sessions[:LISTED_SESSIONS]]
    if len(sessions) > LISTED_SESSIONS:
        more = len(sessions) - LISTED_SESSIONS
        lines.append(ngettext("… and %(count)d more session", "… and %(count)d more sessions", more) % {"count": more})
    session_list = "\n".join(lines)
    url = owner_handover_url(owner_id=owner_id, provider=provider)
    lead = ngettext(
        "The virtual rooms of %(name)s can no longer be kept up to date (%(why)s). %(count)d session still to "
        "start is affected:",
        "The virtual rooms of %(name)s can no longer be kept up to date (%(why)s). %(count)d sessions still to "
        "start are affected:",
        len(sessions),
    ) % {"name": owner_name, "why": why, "count": len(sessions)}
    notify(
        users=admins,
        subject=_("Rooms of %(name)s need a new owner") % {"name": owner_name},
        body=f"{lead}\n{session_list}",
        url=url,
        email=NoticeEmail(
            "owner_rooms_affected",
            {
                "owner_name": owner_name,
                "why": why,
                "session_count": str(len(sessions)),
                "session_list": session_list,
                "handover_url": absolute_url(url),
            },
        ),
    )
    return len(sessions)


def _alert_after_commit(**kwargs) -> None:
    def alert():
        try:
            owner_rooms_alert(**kwargs)
        except Exception:
            # A notice failing must not undo or hide the change that caused it; the handovers page still
            # lists these rooms.
            log.exception("Could not tell the site admins about the rooms of user %s.", kwargs.get("owner_id"))

    transaction.on_commit(alert, robust=True)


@receiver(pre_save, sender=get_user_model(), dispatch_uid="seminars.handover_alerts.was_active")
def remember_was_active(sender, instance, raw=False, update_fields=None, **kwargs):
    # A save that does not write is_active (a login's last_login) costs no query.
    if raw or instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        return
    instance._seminars_was_active = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()


@receiver(post_save, sender=get_user_model(), dispatch_uid="seminars.handover_alerts.deactivated")
def alert_when_deactivated(sender, instance, created=False, raw=False, **kwargs):
    if raw or created or instance.is_active or not getattr(instance, "_seminars_was_active", False):
        return
    instance._seminars_was_active = False
    if Room.objects.filter(created_by_id=instance.pk).exclude(virtual_kind__in=["", Room.CUSTOM_LINK]).exists():
        _alert_after_commit(owner_id=instance.pk, why=_("deactivated in the LMS"))


@receiver(signals.connection_revoked, dispatch_uid="seminars.handover_alerts.revoked")
def alert_when_revoked(sender, connection, **kwargs):
    _alert_after_commit(
        owner_id=connection.user_id,
        provider=connection.provider,
        why=_("their %(provider)s connection was revoked") % {"provider": connection.provider},
        own_connection_only=True,
    )
