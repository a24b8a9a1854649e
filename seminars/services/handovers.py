"""Handing provider-backed rooms to another owner or host (site admins).

A room's meetings are made in its owner's own connection, or in the site's account for its host
(seminars.models.Room). A site admin hands one room, or every room of a trainer, to:

- another host, a user of the site's account (the room is then hosted there; its owner in the LMS, who hears
  about its meetings, becomes the person whose email is the host's, else the admin handing it over); or
- another owner, a person with a usable connection of their own (the room is then made in it).

The rooms change in one transaction holding their events' locks (the lock the event editor takes), which also
says what each meeting should now be (seminars.meetings.event_meetings_sync); the meeting engine then makes
each meeting under its new host and deletes it where it was, in the background, within the provider's limits
(virtualmeeting.sync). Sessions that have started keep their meetings. Learners' links go through our join
URL, so they follow. Each handover is recorded with the rooms and where each was before (RoomHandover).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lms.permissions import is_site_admin
from seminars.email_messages import NoticeEmail
from seminars.meetings import account_host_chosen, event_meetings_sync
from seminars.models import HandoverRoom, Room, RoomHandover, SeminarEvent
from seminars.notifications import notify
from seminars.outbox import absolute_url
from seminars.permissions import require_site_admin
from seminars.validators import REASON_MAX_LENGTH, problems, validate_multi_line

NO_ROOMS = gettext_lazy("There is no room with sessions still to start to hand over.")
ONE_PROVIDER = gettext_lazy("Hand over the rooms of one provider at a time.")
CHOOSE_ONE = gettext_lazy("Choose a new host in the site's account, or a new owner, not both.")
CHOOSE_TARGET = gettext_lazy("Choose who takes the rooms over.")
NO_SITE_ACCOUNT = gettext_lazy(
    "The site's %(service)s account is not set up: enter its Account ID, Client ID and Client secret on the "
    "provider's settings page first, or choose a new owner."
)
HOST_REFUSED = gettext_lazy("This host is not an active user of the site's %(service)s account: choose another.")
HOST_UNKNOWN = gettext_lazy("%(service)s could not be asked about this host: %(reason)s Try again in a moment.")
OWNER_INACTIVE = gettext_lazy("This person is deactivated: choose an active one.")
OWNER_NOT_CONNECTED = gettext_lazy(
    "%(name)s has no working %(service)s connection: they must connect their account (from a room's dialog) "
    "before rooms can be made in it."
)
ALREADY_THERE = gettext_lazy("The rooms are already there: choose another host or owner.")


class HandoverError(Exception):
    """The handover was refused; `errors` says why, by form field ("__all__" for the whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(str(m) for messages in errors.values() for m in messages))
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}


@dataclass(frozen=True)
class _Target:
    hosting: str
    owner: object  # the LMS owner after the handover
    host: str = ""
    host_email: str = ""
    host_name: str = ""

    def holds(self, room: Room) -> bool:
        """The room is already where this target puts it."""
        if self.hosting == Room.HOSTING_ACCOUNT:
            return room.in_site_account and room.virtual_host == self.host
        return not room.in_site_account and room.created_by_id == self.owner.pk


def rooms_hand_over(*, by, rooms, to_host: str = "", to_owner=None, reason: str = "", from_owner=None) -> RoomHandover:
    """Hand `rooms` (provider-backed, one provider) to `to_host` (the provider's id or email of a user of the
    site's account) or to `to_owner` (a person with a usable connection), and record it.

    Call outside any transaction: the host is asked of the provider first (no lock is held meanwhile).
    `from_owner`: the trainer whose rooms these are, for the record ("every room of a trainer"); one room's
    owner otherwise. Rooms already there are left out; raises HandoverError (nothing changed) when the target
    or the reason is refused or nothing is left. The new owner is told after commit.
    """
    require_site_admin(by)
    rooms = list(rooms)
    errors: dict[str, list[str]] = {}
    reason = reason if isinstance(reason, str) else ""
    reason_problems = problems(reason, validate_multi_line)
    if len(reason) > REASON_MAX_LENGTH:
        reason_problems.append(_("Use at most %(limit)d characters.") % {"limit": REASON_MAX_LENGTH})
    if reason_problems:
        errors["reason"] = reason_problems
    providers = {room.virtual_kind for room in rooms if room.is_provider_backed}
    if not rooms or len(providers) != 1 or any(not room.is_provider_backed for room in rooms):
        errors["__all__"] = [str(NO_ROOMS if not providers else ONE_PROVIDER)]
        raise HandoverError(errors)
    provider_id = providers.pop()
    target = _target(by=by, provider_id=provider_id, to_host=to_host, to_owner=to_owner, errors=errors)
    if errors:
        raise HandoverError(errors)
    with transaction.atomic():
        handover = _hand_over_locked(
            by=by,
            room_ids=[room.pk for room in rooms],
            provider_id=provider_id,
            target=target,
            reason=reason,
            from_owner=from_owner,
        )
    transaction.on_commit(lambda: _tell_new_owner(handover.pk), robust=True)
    return handover


def _target(*, by, provider_id: str, to_host, to_owner, errors: dict) -> _Target | None:
    from virtualmeeting.registry import get_provider

    provider = get_provider(provider_id)
    service = provider.service
    to_host = (to_host or "").strip() if isinstance(to_host, str) else ""
    if to_host and to_owner is not None:
        errors["__all__"] = [str(CHOOSE_ONE)]
        return None
    if not to_host and to_owner is None:
        errors["__all__"] = [str(CHOOSE_TARGET)]
        return None
    if to_host:
        if not provider.account_is_configured():
            errors["to_host"] = [str(NO_SITE_ACCOUNT) % {"service": service}]
            return None
        lookup = account_host_chosen(provider_id=provider_id, host_id=to_host)
        if lookup.error:
            errors["to_host"] = [str(HOST_UNKNOWN) % {"service": service, "reason": _sentence(lookup.error)}]
            return None
        if lookup.host is None:
            errors["to_host"] = [str(HOST_REFUSED) % {"service": service}]
            return None
        host = lookup.host
        return _Target(
            hosting=Room.HOSTING_ACCOUNT,
            owner=_owner_of_host(host.email) or by,
            host=host.remote_id,
            host_email=host.email,
            host_name=host.name,
        )
    if not to_owner.is_active:
        errors["to_owner"] = [str(OWNER_INACTIVE)]
        return None
    if provider.needs_connection and not _is_connected(to_owner, provider_id):
        name = to_owner.get_full_name() or to_owner.get_username()
        errors["to_owner"] = [str(OWNER_NOT_CONNECTED) % {"name": name, "service": service}]
        return None
    return _Target(hosting=Room.HOSTING_USER, owner=to_owner)


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _owner_of_host(email: str):
    """The active LMS user whose email is the host's (the room's owner in the LMS), or None."""
    if not email:
        return None
    return get_user_model().objects.filter(email__iexact=email, is_active=True).order_by("pk").first()


def _is_connected(user, provider_id: str) -> bool:
    from virtualmeeting.models import ProviderConnection

    connection = ProviderConnection.objects.filter(user=user, provider=provider_id).first()
    return connection is not None and connection.is_usable


def _hand_over_locked(*, by, room_ids, provider_id, target: _Target, reason, from_owner) -> RoomHandover:
    event_ids = sorted(set(Room.objects.filter(pk__in=room_ids).values_list("event_id", flat=True)) - {None})
    # The events' locks first, in id order (the event editor's lock: no save of these events runs meanwhile).
    events = {event.pk: event for event in SeminarEvent.objects.select_for_update().filter(pk__in=event_ids)}
    rooms = [
        room
        for room in Room.objects.select_for_update().filter(pk__in=room_ids, virtual_kind=provider_id).order_by("pk")
        if room.is_provider_backed and not target.holds(room)
    ]
    if not rooms:
        raise HandoverError({"__all__": [str(ALREADY_THERE)]})
    if from_owner is None and len({room.created_by_id for room in rooms}) == 1:
        from_owner = rooms[0].created_by
    handover = RoomHandover.objects.create(
        created_by=by,
        provider=provider_id,
        from_owner=from_owner,
        to_hosting=target.hosting,
        to_owner=target.owner,
        to_host=target.host,
        to_host_email=target.host_email,
        to_host_name=target.host_name,
        reason=reason,
    )
    HandoverRoom.objects.bulk_create(
        [
            HandoverRoom(
                handover=handover,
                room=room,
                room_name=room.name,
                from_owner_id=room.created_by_id,
                from_hosting=room.virtual_hosting,
                from_host=room.virtual_host,
                from_host_email=room.virtual_host_email,
            )
            for room in rooms
        ]
    )
    for room in rooms:
        room.created_by = target.owner
        room.virtual_hosting = target.hosting
        room.virtual_host = target.host
        room.virtual_host_email = target.host_email
        # Alternative hosts are the site account's: none in a person's own account, and never the host itself.
        room.virtual_alternative_hosts = (
            [email for email in room.virtual_alternative_hosts if email.lower() != target.host_email.lower()]
            if target.hosting == Room.HOSTING_ACCOUNT
            else []
        )
        room.save(
            update_fields=[
                "created_by",
                "virtual_hosting",
                "virtual_host",
                "virtual_host_email",
                "virtual_alternative_hosts",
            ]
        )
    for event_id in sorted({room.event_id for room in rooms}):
        event_meetings_sync(event=events[event_id])
    return handover


def handover_target_name(handover: RoomHandover) -> str:
    """Who the rooms went to, in words: the host (name and email) or the owner."""
    if handover.to_hosting == Room.HOSTING_ACCOUNT:
        name = handover.to_host_name or handover.to_host
        return f"{name} ({handover.to_host_email})" if handover.to_host_email else name
    owner = handover.to_owner
    if owner is None:
        return "-"
    return owner.get_full_name() or owner.get_username()


def _tell_new_owner(handover_id: int) -> None:
    """The LMS owner of the handed rooms hears which rooms are theirs now (not the admin who did it)."""
    handover = RoomHandover.objects.select_related("created_by", "to_owner").filter(pk=handover_id).first()
    if handover is None or handover.to_owner is None or handover.to_owner_id == handover.created_by_id:
        return
    if not handover.to_owner.is_active:
        return
    names = ", ".join(row.room_name for row in handover.rooms.all())
    actor = handover.created_by
    actor_name = (actor.get_full_name() or actor.get_username()) if actor else "-"
    # The record is a site admin's page; anyone else finds the rooms' sessions on their dashboard.
    if is_site_admin(handover.to_owner):
        url = reverse("seminars:handover", args=[handover.pk])
    else:
        url = reverse("seminars:dashboard")
    reason_line = _("Reason: %(reason)s") % {"reason": handover.reason} if handover.reason else ""
    body = _(
        "%(actor)s handed these rooms to you: %(rooms)s. Their meetings are being moved; you will hear about "
        "them from now on."
    ) % {"actor": actor_name, "rooms": names}
    notify(
        users=[handover.to_owner],
        subject=_("Rooms handed over to you"),
        body=f"{body}\n\n{reason_line}".strip(),
        url=url,
        email=NoticeEmail(
            "rooms_handed_over",
            {
                "actor_name": actor_name,
                "rooms": names,
                "new_host": handover_target_name(handover),
                "reason": handover.reason,
                "reason_line": reason_line,
                "handover_url": absolute_url(url),
            },
        ),
    )
