"""Rooms: the rules every room obeys, and site-room management.

Site rooms are reusable and belong to no event; ad-hoc rooms are created and
edited inside one event's editor (see seminars.services.events). Provider-backed
virtual rooms (e.g. "Zoom Meeting") are ad-hoc only, because the meeting is
owned by the trainer who created the room.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from seminars.models import Room, Session
from seminars.validators import problems, validate_multi_line, validate_room_capacity, validate_single_line

PROVIDER_ON_SITE_ROOM = gettext_lazy("Meeting providers can only be used on ad-hoc rooms created inside an event.")
BAD_URL = gettext_lazy("Enter a valid web address starting with https:// or http://.")
CONNECT_FIRST = gettext_lazy("Connect your account before saving this room.")
UNKNOWN_LINK = gettext_lazy("This virtual room link is not available. Choose another option.")
NO_HOST = gettext_lazy(
    "Choose a host for this room: its meetings are made in the site's %(service)s account, which has no active "
    "user with your email address (%(email)s)."
)
HOST_NOT_IN_ACCOUNT = gettext_lazy(
    "The chosen host is not an active user of the site's %(service)s account (any more): choose another host."
)
HOST_UNKNOWN = gettext_lazy("%(service)s could not be asked for this room's host: %(reason)s Try again in a moment.")


def room_errors(
    *, fields: dict, site_room: bool, actor=None, previous: Room | None = None, account_hosts: dict | None = None
) -> dict[str, list[str]]:
    """Problems with a room's fields, by field name (empty when the room is fine).

    `fields` holds name, capacity, description, virtual_kind and virtual_url, and may hold virtual_host (the
    host chosen in the site's account: it must be an active user of the account, else it is refused).
    `previous` is the room being edited, if any: keeping its provider needs no
    new connection, since the meeting stays with the room's creator (or its host).
    `account_hosts`: seminars.meetings.rooms_account_hosts, asked before the transaction; a room made
    in the site's account needs a host.
    """
    errors: dict[str, list[str]] = {}
    name = fields.get("name") if isinstance(fields.get("name"), str) else ""
    if not name.strip():
        errors["name"] = [_("Enter the room's name.")]
    elif len(name) > Room._meta.get_field("name").max_length:
        errors["name"] = [_("Use at most %(limit)d characters.") % {"limit": Room._meta.get_field("name").max_length}]
    else:
        _note(errors, "name", problems(name, validate_single_line))
    _note(errors, "description", problems(str(fields.get("description") or ""), validate_multi_line))
    _note(errors, "capacity", problems(fields.get("capacity"), validate_room_capacity))

    kind = fields.get("virtual_kind") or ""
    url = str(fields.get("virtual_url") or "").strip()
    if not isinstance(kind, str) or problems(kind, validate_single_line):
        errors["virtual_kind"] = [UNKNOWN_LINK]
    elif kind == Room.CUSTOM_LINK:
        if not url:
            errors["virtual_url"] = [_("Enter the custom link's web address.")]
        elif problems(url, validate_single_line) or not _is_web_url(url):
            errors["virtual_url"] = [BAD_URL]
    elif kind:
        errors.update(
            _provider_errors(
                kind=kind,
                site_room=site_room,
                actor=actor,
                previous=previous,
                account_hosts=account_hosts,
                chosen=fields.get("virtual_host") if isinstance(fields.get("virtual_host"), str) else "",
            )
        )
    return errors


def _note(errors: dict, field: str, messages: list[str]) -> None:
    if messages:
        errors[field] = messages


def _is_web_url(url: str) -> bool:
    if len(url) > Room._meta.get_field("virtual_url").max_length:
        return False
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return True


def _provider_errors(*, kind, site_room, actor, previous, account_hosts=None, chosen="") -> dict[str, list[str]]:
    if site_room:
        return {"virtual_kind": [PROVIDER_ON_SITE_ROOM]}
    if previous is not None and previous.virtual_kind == kind:
        return {}
    from seminars.meetings import account_host_chosen, account_host_for, provider_hosting, virtual_link_options

    option = next((o for o in virtual_link_options() if o["value"] == kind), None)
    if option is None:
        return {"virtual_kind": [UNKNOWN_LINK]}
    if provider_hosting(kind) == Room.HOSTING_ACCOUNT:
        from virtualmeeting.selectors import service_name

        service = service_name(kind)
        if chosen:
            lookup = (account_hosts or {}).get((kind, chosen)) or account_host_chosen(provider_id=kind, host_id=chosen)
        else:
            lookup = (account_hosts or {}).get(kind) or account_host_for(provider_id=kind, user=actor)
        if lookup.error:
            message = HOST_UNKNOWN % {"service": service, "reason": _sentence(lookup.error)}
            return {"virtual_host" if chosen else "virtual_kind": [message]}
        if lookup.host is None and chosen:
            return {"virtual_host": [HOST_NOT_IN_ACCOUNT % {"service": service}]}
        if lookup.host is None:
            email = getattr(actor, "email", "") or _("none")
            return {"virtual_kind": [NO_HOST % {"service": service, "email": email}]}
        return {}
    if option["needs_connection"] and not _is_connected(actor, kind):
        return {"virtual_kind": [CONNECT_FIRST]}
    return {}


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def room_hosting_set(*, room: Room, account_hosts: dict | None, chosen: str = "") -> None:
    """A room made with a provider, or switched to one, takes the provider's hosting now; in the site's account,
    the `chosen` host, else the host found for the person making it (room_errors refused the room when there is
    none, or when the chosen one is not an active user of the account)."""
    from seminars.meetings import provider_hosting

    room.virtual_host = room.virtual_host_email = ""
    room.virtual_hosting = provider_hosting(room.virtual_kind)
    if room.virtual_hosting == Room.HOSTING_ACCOUNT:
        host = (account_hosts or {})[(room.virtual_kind, chosen) if chosen else room.virtual_kind].host
        room.virtual_host, room.virtual_host_email = host.remote_id, host.email


def _is_connected(actor, provider_id: str) -> bool:
    from virtualmeeting.models import ProviderConnection

    if actor is None:
        return False
    connection = ProviderConnection.objects.filter(user=actor, provider=provider_id).first()
    return connection is not None and connection.is_usable


def room_conflicts(*, room: Room, start: datetime, finish: datetime, exclude_event=None):
    """Sessions of other, live events that hold `room` at an overlapping time."""
    sessions = Session.objects.filter(room=room, start__lt=finish, finish__gt=start, event__cancelled=False)
    if exclude_event is not None and exclude_event.pk:
        sessions = sessions.exclude(event=exclude_event)
    return sessions


def site_room_save(*, room: Room | None, fields: dict, actor) -> Room:
    """Create (room=None) or update a site room. Raises ValidationError keyed by field."""
    if room is not None and not room.is_site_room:
        raise ValidationError({"name": [_("Ad-hoc rooms are edited in their event.")]})
    errors = room_errors(fields=fields, site_room=True, actor=actor, previous=room)
    if errors:
        raise ValidationError(errors)
    if room is None:
        room = Room(created_by=actor)
    room.name = fields["name"].strip()
    room.capacity = fields["capacity"]
    room.description = fields.get("description") or ""
    room.allow_conflicts = bool(fields.get("allow_conflicts"))
    room.virtual_kind = fields.get("virtual_kind") or ""
    room.virtual_url = (fields.get("virtual_url") or "").strip() if room.virtual_kind == Room.CUSTOM_LINK else ""
    room.save()
    return room


def site_room_upcoming_sessions(*, room: Room):
    return Session.objects.filter(room=room, finish__gt=timezone.now(), event__cancelled=False)


def site_room_delete(*, room: Room, actor) -> None:
    """Delete a site room that no upcoming session uses. Past sessions simply lose their room."""
    if not room.is_site_room:
        raise ValidationError(_("Ad-hoc rooms are removed in their event."))
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        upcoming = site_room_upcoming_sessions(room=locked).count()
        if upcoming:
            raise ValidationError(
                ngettext(
                    "%(room)s is used by %(count)d upcoming session: choose another room for it first.",
                    "%(room)s is used by %(count)d upcoming sessions: choose another room for them first.",
                    upcoming,
                )
                % {"room": locked.name, "count": upcoming}
            )
        locked.delete()
