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
# Alternative hosts (users of the site's account who may also start the room's meetings): at most this many.
ALTERNATIVE_HOSTS_MAX = 10
ALTERNATIVE_HOSTS_TOO_MANY = gettext_lazy("Name at most %(limit)d alternative hosts.")
ALTERNATIVE_HOSTS_NOT_HERE = gettext_lazy(
    "Alternative hosts can only be named for a room whose meetings are made in the site's account."
)
ALTERNATIVE_HOST_UNKNOWN = gettext_lazy(
    "%(service)s could not be asked about the alternative host %(who)s: %(reason)s Try again in a moment."
)
ALTERNATIVE_HOST_NOT_IN_ACCOUNT = gettext_lazy(
    "Alternative host %(who)s is not an active user of the site's %(service)s account: remove them."
)
ALTERNATIVE_HOST_BASIC = gettext_lazy(
    "Alternative host %(who)s is a Basic (unlicensed) user of the site's %(service)s account, and %(service)s "
    "lets only licensed users be alternative hosts: remove them, or give them a licence first."
)
ALTERNATIVE_HOST_IS_HOST = gettext_lazy(
    "%(who)s hosts this room, so they cannot also be one of its alternative hosts: remove them."
)


def room_errors(
    *, fields: dict, site_room: bool, actor=None, previous: Room | None = None, account_hosts: dict | None = None
) -> dict[str, list[str]]:
    """Problems with a room's fields, by field name (empty when the room is fine).

    `fields` holds name, capacity, description, virtual_kind and virtual_url, and may hold virtual_host (the
    host chosen in the site's account: it must be an active user of the account, else it is refused) and
    virtual_alternative_hosts (emails or ids of users of that account: see `_alternative_host_errors`).
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
    if not errors:
        _note(
            errors,
            "virtual_alternative_hosts",
            _alternative_host_errors(fields=fields, actor=actor, previous=previous, account_hosts=account_hosts),
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


def alternative_hosts_named(value) -> list[str]:
    """The alternative hosts a room's fields name (emails or the provider's user ids): stripped, each once
    (case-insensitively), in the order given."""
    named, seen = [], set()
    for item in value if isinstance(value, list | tuple) else ():
        text = item.strip() if isinstance(item, str) else ""
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            named.append(text)
    return named


def room_in_site_account_after(*, kind: str, previous: Room | None) -> bool:
    """Will the room's meetings be made in the site's account once it is saved with `kind`? A room keeping its
    provider keeps its hosting; one made now or switched takes the provider's hosting now."""
    if not isinstance(kind, str) or kind in ("", Room.CUSTOM_LINK):
        return False
    if previous is not None and previous.virtual_kind == kind:
        return previous.in_site_account
    from seminars.meetings import provider_hosting

    return provider_hosting(kind) == Room.HOSTING_ACCOUNT


def _kept_alternative_hosts(*, kind: str, previous: Room | None) -> dict[str, str]:
    """The alternative hosts the room already has and keeps (it stays in the site's account with this provider):
    casefolded -> as stored. They were checked when they were named."""
    if previous is None or previous.virtual_kind != kind or not previous.in_site_account:
        return {}
    return {email.casefold(): email for email in alternative_hosts_named(previous.virtual_alternative_hosts)}


def room_alternative_hosts_to_check(*, fields: dict, previous: Room | None) -> list[tuple[str, str]]:
    """(provider, email or id) of the alternative hosts a room's fields newly name, to ask the provider about
    before the saving transaction (one call each); none for a room outside the site's account, or naming too
    many (refused without asking)."""
    kind = fields.get("virtual_kind") or ""
    named = alternative_hosts_named(fields.get("virtual_alternative_hosts"))
    if not room_in_site_account_after(kind=kind, previous=previous) or len(named) > ALTERNATIVE_HOSTS_MAX:
        return []
    kept = _kept_alternative_hosts(kind=kind, previous=previous)
    return [(kind, ref) for ref in named if ref.casefold() not in kept]


def _alternative_host_lookup(kind: str, ref: str, account_hosts: dict | None):
    from seminars.meetings import account_host_chosen

    return (account_hosts or {}).get((kind, ref)) or account_host_chosen(provider_id=kind, host_id=ref)


def _alternative_host_errors(*, fields: dict, actor, previous: Room | None, account_hosts: dict | None) -> list[str]:
    """Each alternative host newly named must be an active, licensed user of the site's account (the provider
    refuses others) and not the room's host; at most ALTERNATIVE_HOSTS_MAX; only for a room in that account."""
    kind = fields.get("virtual_kind") or ""
    named = alternative_hosts_named(fields.get("virtual_alternative_hosts"))
    if not named:
        return []
    if not room_in_site_account_after(kind=kind, previous=previous):
        kept = alternative_hosts_named(getattr(previous, "virtual_alternative_hosts", None))
        return [] if named == kept else [str(ALTERNATIVE_HOSTS_NOT_HERE)]  # those kept go with the account
    if len(named) > ALTERNATIVE_HOSTS_MAX:
        return [ALTERNATIVE_HOSTS_TOO_MANY % {"limit": ALTERNATIVE_HOSTS_MAX}]
    from virtualmeeting.selectors import service_name

    service = service_name(kind)
    host_ids = _room_host_ids(fields=fields, actor=actor, previous=previous, account_hosts=account_hosts)
    kept = _kept_alternative_hosts(kind=kind, previous=previous)
    problems = []
    for ref in named:
        if ref.casefold() in kept:
            if ref.casefold() in host_ids:
                problems.append(ALTERNATIVE_HOST_IS_HOST % {"who": ref})
            continue
        lookup = _alternative_host_lookup(kind, ref, account_hosts)
        who = _person(lookup.host, ref)
        if lookup.error:
            problems.append(
                ALTERNATIVE_HOST_UNKNOWN % {"service": service, "who": who, "reason": _sentence(lookup.error)}
            )
        elif lookup.host is None:
            problems.append(ALTERNATIVE_HOST_NOT_IN_ACCOUNT % {"service": service, "who": who})
        elif {ref.casefold(), lookup.host.remote_id.casefold(), lookup.host.email.casefold()} & host_ids:
            problems.append(ALTERNATIVE_HOST_IS_HOST % {"who": who})
        elif lookup.host.licensed is False:
            problems.append(ALTERNATIVE_HOST_BASIC % {"service": service, "who": who})
    return problems


def _person(user, ref: str) -> str:
    if user is None:
        return ref
    return f"{user.name} ({user.email})" if user.name and user.email else user.email or ref


def _room_host_ids(*, fields: dict, actor, previous: Room | None, account_hosts: dict | None) -> set[str]:
    """The room's host once saved, as casefolded id and email (empty when it is not known)."""
    kind = fields.get("virtual_kind") or ""
    if previous is not None and previous.virtual_kind == kind:
        return {value.casefold() for value in (previous.virtual_host, previous.virtual_host_email) if value}
    chosen = fields.get("virtual_host") if isinstance(fields.get("virtual_host"), str) else ""
    lookup = (account_hosts or {}).get((kind, chosen) if chosen else kind)
    host = getattr(lookup, "host", None)
    return {value.casefold() for value in (host.remote_id, host.email) if value} if host else set()


def room_alternative_hosts(*, fields: dict, previous: Room | None, account_hosts: dict | None) -> list[str]:
    """The emails the room will keep as alternative hosts (room_errors found none wrong): those it has as
    stored, those newly named as the provider gave them; none outside the site's account."""
    kind = fields.get("virtual_kind") or ""
    if not room_in_site_account_after(kind=kind, previous=previous):
        return []
    kept = _kept_alternative_hosts(kind=kind, previous=previous)
    emails = []
    for ref in alternative_hosts_named(fields.get("virtual_alternative_hosts")):
        email = kept.get(ref.casefold()) or _alternative_host_lookup(kind, ref, account_hosts).host.email
        if email.casefold() not in {e.casefold() for e in emails}:
            emails.append(email)
    return emails


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
