"""The seminars side of virtual meetings: which meetings should exist, and the link options.

seminars decides; virtualmeeting (which never imports seminars) does the work.
Each (session, provider-backed room) pair wants one meeting, named by a
reference string this module owns:

    seminars.event:<event id>:session:<session id>:room:<room id>

The functions here run inside the transaction that changes the seminar data;
virtualmeeting.services records the desired state in the same transaction and
queues the remote work after commit.

Each meeting asks for personal join links: every booking holding a seat on the
event is a registrant (key `booking:<id>`), so the participants the provider
reports carry the registrant of a booking. Staff who are not the owner are
registered on demand at their first click (key `user:<id>`, seminars.views.virtual);
those registrations are kept until the meeting goes.
"""

import hashlib
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import BigIntegerField, Case, CharField, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from seminars.models import Booking, Room, Seminar, SeminarEvent, Session

REFERENCE_PREFIX = "seminars.event:"
BOOKING_KEY = "booking:"
STAFF_KEY = "user:"
# How long the site account's answer about a person's own user is kept (the room dialog asks, then the save).
ACCOUNT_HOST_CACHE_SECONDS = 60
# The site account's active users, for the room dialog's host search: kept a minute, at most this many shown.
ACCOUNT_USERS_CACHE_SECONDS = 60
ACCOUNT_USERS_SHOWN = 50
# Events given personal links by one reconcile run (meetings_reconcile): each is one event save's work.
PERSONAL_LINKS_BACKFILL_LIMIT = 50
_REFERENCE_RE = re.compile(r"^seminars\.event:(\d+):session:(\d+):room:(\d+)$")

log = logging.getLogger(__name__)


def virtual_link_options():
    """Choices for the room dialog's "Add virtual room link" dropdown.

    Returns a list of dicts: value, label, needs_connection. "None" and
    "Custom link" always; then one entry per enabled, configured provider.
    """
    from virtualmeeting.registry import enabled_providers

    options = [
        {"value": "", "label": _("None"), "needs_connection": False},
        {"value": Room.CUSTOM_LINK, "label": _("Custom link"), "needs_connection": False},
    ]
    for provider in enabled_providers():
        # A room in the site's account needs no connection of the person who makes it.
        needs_connection = provider.needs_connection and hosting_of(provider) == Room.HOSTING_USER
        options.append(
            {
                "value": provider.id,
                "label": provider.name,
                "needs_connection": needs_connection,
                "hosting": hosting_of(provider),
            }
        )
    return options


def hosting_of(provider) -> str:
    """How a room made now with this provider hosts its meetings: the provider's setting, when it offers a site
    account; else each owner's own connection."""
    if provider.supports_account and provider.config.hosting == Room.HOSTING_ACCOUNT:
        return Room.HOSTING_ACCOUNT
    return Room.HOSTING_USER


def provider_hosting(provider_id: str) -> str:
    from virtualmeeting.registry import get_provider

    try:
        return hosting_of(get_provider(provider_id))
    except LookupError:
        return Room.HOSTING_USER


@dataclass(frozen=True)
class HostLookup:
    """The default host of a room made in the site's account: `host` (an AccountUser) or None, and `error`, in
    words, when the provider could not be asked."""

    host: object = None
    error: str = ""


def account_host_for(*, provider_id: str, user) -> HostLookup:
    """The person's own user of the site's account, when their LMS email matches an active one (one call to the
    provider, kept ACCOUNT_HOST_CACHE_SECONDS; a failure is not kept). Call it outside any transaction."""
    from virtualmeeting.errors import ProviderError
    from virtualmeeting.registry import get_provider

    email = (getattr(user, "email", "") or "").strip()
    if not email:
        return HostLookup()
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    key = f"seminars:account_host:{provider_id}:{digest}"
    cached = cache.get(key)
    if isinstance(cached, HostLookup):
        return cached
    try:
        found = get_provider(provider_id).account_user(email)
    except (ProviderError, LookupError) as exc:
        return HostLookup(error=getattr(exc, "message", "") or str(exc))
    lookup = HostLookup(host=found if found is not None and found.active else None)
    cache.set(key, lookup, ACCOUNT_HOST_CACHE_SECONDS)
    return lookup


def account_host_chosen(*, provider_id: str, host_id: str) -> HostLookup:
    """A host chosen in the room dialog: an active user of the site's account (one call to the provider, not kept:
    a host removed a moment ago is refused). Call it outside any transaction."""
    from virtualmeeting.errors import ProviderError
    from virtualmeeting.registry import get_provider

    host_id = (host_id or "").strip()
    if not host_id or len(host_id) > Room._meta.get_field("virtual_host").max_length:
        return HostLookup()
    try:
        found = get_provider(provider_id).account_user(host_id)
    except (ProviderError, LookupError) as exc:
        return HostLookup(error=getattr(exc, "message", "") or str(exc))
    return HostLookup(host=found if found is not None and found.active else None)


def account_users_search(*, provider_id: str, query: str, limit: int = ACCOUNT_USERS_SHOWN) -> list:
    """The active users of the site's account whose name or email holds `query` (case-insensitive), at most
    `limit`, by name. The whole list is asked of the provider (paged) and kept ACCOUNT_USERS_CACHE_SECONDS under
    the provider and its account (no secret in the key). Raises ProviderError when the provider cannot be asked."""
    from virtualmeeting.registry import get_provider

    provider = get_provider(provider_id)
    account = getattr(provider.config, "account_id", "") or ""
    digest = hashlib.sha256(account.encode()).hexdigest()[:32]
    key = f"seminars:account_users:{provider_id}:{digest}"
    users = cache.get(key)
    if not isinstance(users, list):
        users = [user for user in provider.account_users() if user.active]
        cache.set(key, users, ACCOUNT_USERS_CACHE_SECONDS)
    needle = (query or "").strip().casefold()
    found = [user for user in users if needle in user.name.casefold() or needle in user.email.casefold()]
    found.sort(key=lambda user: (user.name.casefold() or user.email.casefold(), user.email.casefold()))
    return found[:limit]


def rooms_account_hosts(*, choices, user) -> dict:
    """For the (kind, chosen host or "") of new rooms, those whose provider puts new rooms in the site's account:
    by kind, the person's own user (when a room chose no host); by (kind, host), the chosen host checked. Asked
    before the saving transaction (a call to the provider holds no lock)."""
    hosts: dict = {}
    for kind, chosen in sorted(set(choices)):
        if kind in ("", Room.CUSTOM_LINK) or provider_hosting(kind) != Room.HOSTING_ACCOUNT:
            continue
        if chosen:
            hosts[(kind, chosen)] = account_host_chosen(provider_id=kind, host_id=chosen)
        elif kind not in hosts:
            hosts[kind] = account_host_for(provider_id=kind, user=user)
    return hosts


def rooms_alternative_hosts(*, choices, known: dict | None = None) -> dict:
    """By (kind, email or id), the alternative hosts named for rooms in the site's account, each checked with the
    provider once (as a chosen host is: an active user; the licence comes with it), except those already in
    `known` (the same person chosen as a host is asked once). Asked before the saving transaction."""
    return {
        (kind, ref): account_host_chosen(provider_id=kind, host_id=ref)
        for kind, ref in sorted(set(choices))
        if (kind, ref) not in (known or {})
    }


def meeting_reference(session: Session, room: Room) -> str:
    return f"{REFERENCE_PREFIX}{session.event_id}:session:{session.pk}:room:{room.pk}"


def parse_reference(reference: str) -> tuple[int, int, int] | None:
    """(event id, session id, room id) of a seminars meeting reference, or None."""
    match = _REFERENCE_RE.match(reference)
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


def booking_key(booking_id: int) -> str:
    """The registrant key of a booking (its learner's personal link)."""
    return f"{BOOKING_KEY}{booking_id}"


def staff_key(user_id: int) -> str:
    """The registrant key of a trainer or admin registered on demand."""
    return f"{STAFF_KEY}{user_id}"


def registrant_names(user) -> tuple[str, str]:
    """(first, last) sent to the provider: the user's names, the username when there is no first name."""
    return (user.first_name or user.username, user.last_name)


def meeting_topic(session: Session, position: int, total: int) -> str:
    """The meeting's name at the provider, in the site's language whoever saves: a topic that followed each
    person's language would change, and update every meeting, with whoever saved last."""
    event = session.event
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(seminar)s: %(event)s (session %(position)d of %(total)d)") % {
            "seminar": event.seminar.name,
            "event": event.title,
            "position": position,
            "total": total,
        }


def _event_prefix(event_id: int) -> str:
    return f"{REFERENCE_PREFIX}{event_id}:"


def _desired_meetings(event: SeminarEvent) -> dict[str, dict]:
    """The meetings the event should have now: reference -> desired state."""
    if event.cancelled:
        return {}
    sessions = list(event.sessions.select_related("room__created_by").order_by("start", "pk"))
    started = _started_meetings_placement(event, sessions)
    desired = {}
    for position, session in enumerate(sessions, start=1):
        room = session.room
        if room is None or not room.is_provider_backed:
            continue
        reference = meeting_reference(session, room)
        owner, hosting, host = started.get((reference, room.virtual_kind)) or (
            room.created_by,
            Room.HOSTING_ACCOUNT if room.in_site_account else Room.HOSTING_USER,
            room.virtual_host if room.in_site_account else "",
        )
        desired[reference] = {
            "provider": room.virtual_kind,
            "owner": owner,
            "hosting": hosting,
            "host": host,
            "alternative_hosts": list(room.virtual_alternative_hosts) if room.in_site_account else [],
            "topic": meeting_topic(session, position, len(sessions)),
            "start": session.start,
            "finish": session.finish,
            "time_zone": session.time_zone,
            "agenda": event.details,
        }
    return desired


def _started_meetings_placement(event: SeminarEvent, sessions) -> dict:
    """Where the meetings of the event's started sessions live: (reference, provider) -> (owner, hosting, host).

    A session that has started keeps its meeting where it was made, whoever owns or hosts the room now (a
    handover): moving it would end a meeting people are in, and an ended one holds its participants and
    recordings. One query, none when no session has started.
    """
    from virtualmeeting.models import VirtualMeeting

    now = timezone.now()
    references = [meeting_reference(s, s.room) for s in sessions if s.room is not None and s.start <= now]
    if not references:
        return {}
    rows = VirtualMeeting.objects.filter(reference__in=references, present=True).select_related("owner")
    return {(row.reference, row.provider): (row.owner, row.hosting, row.host) for row in rows if row.owner_id}


def event_meetings_sync(*, event: SeminarEvent) -> None:
    """Make the event's meeting rows say what should exist; call inside the saving transaction.

    Sessions added, moved or re-zoned and an event renamed update or create
    meetings; sessions removed, rooms removed or switched away from a provider,
    and a cancelled event delete them. Each meeting's registrants are the
    event's seats (`event_registrants_sync`). Failed or waiting operations of the
    event, registrants' too, are re-queued: saving again ("Save changes" with no edits) retries.
    """
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.services import meeting_put, meetings_requeue, registrants_requeue

    event = SeminarEvent.objects.select_related("seminar").get(pk=event.pk)
    desired = _desired_meetings(event)
    for reference, state in desired.items():
        meeting_put(reference=reference, personal_links=True, **state)
    existing = VirtualMeeting.objects.filter(reference__startswith=_event_prefix(event.pk), present=True)
    for reference in existing.values_list("reference", flat=True):
        if reference not in desired:
            _meeting_remove(reference)
    event_registrants_sync(event=event)
    if desired:
        meetings_requeue(references=list(desired))
        registrants_requeue(references=list(desired))


def event_registrants_sync(*, event: SeminarEvent) -> None:
    """Make the registrants of the event's meetings the learners holding a seat; call inside the transaction.

    Every booking change ends here (seminars.services.bookings), so a booked or promoted learner is
    registered and a cancelled or event-cancelled one is cancelled at the provider; attendance states
    keep the seat and the link. Staff registered on demand stay. One query for the meetings (none
    more when the event has no personal links), one for the bookings, one for the staff, then one
    `registrants_set` per meeting (the framework registers in the provider's batches).
    """
    from virtualmeeting.models import MeetingRegistrant, VirtualMeeting
    from virtualmeeting.services import RegistrantPerson, registrants_set

    references = list(
        VirtualMeeting.objects.filter(
            reference__startswith=_event_prefix(event.pk), present=True, personal_links=True
        ).values_list("reference", flat=True)
    )
    if not references:
        return
    learners = []
    if not event.cancelled:
        bookings = Booking.objects.filter(event_id=event.pk, state__in=Booking.SEAT_STATES).select_related("user")
        for booking in bookings.order_by("pk"):
            first, last = registrant_names(booking.user)
            learners.append(
                RegistrantPerson(key=booking_key(booking.pk), first_name=first, last_name=last, user=booking.user)
            )
    staff: dict[str, list] = {reference: [] for reference in references}
    kept = MeetingRegistrant.objects.filter(
        meeting__reference__in=references, present=True, key__startswith=STAFF_KEY
    ).select_related("meeting", "user")
    for row in kept:
        person = RegistrantPerson(key=row.key, first_name=row.first_name, last_name=row.last_name, user=row.user)
        staff[row.meeting.reference].append(person)
    for reference in references:
        registrants_set(reference=reference, people=learners + staff[reference])


def _meeting_remove(reference: str) -> None:
    """The meeting goes, and its registrants' links with it (no call is made for them)."""
    from virtualmeeting.services import meeting_remove, registrants_set

    meeting = meeting_remove(reference=reference)
    if meeting is not None:
        registrants_set(reference=reference, people=[])


def event_meetings_remove(*, event: SeminarEvent) -> None:
    """Delete every meeting of the event (the event is going away); call inside the transaction."""
    events_meetings_remove(event_ids=[event.pk])


def events_meetings_remove(*, event_ids) -> None:
    from virtualmeeting.models import VirtualMeeting

    for event_id in event_ids:
        rows = VirtualMeeting.objects.filter(reference__startswith=_event_prefix(event_id), present=True)
        for reference in rows.values_list("reference", flat=True):
            _meeting_remove(reference)


def seminar_meetings_remove(*, seminar: Seminar) -> None:
    events_meetings_remove(event_ids=list(seminar.events.values_list("pk", flat=True)))


def course_meetings_remove(*, course) -> None:
    events_meetings_remove(
        event_ids=list(SeminarEvent.objects.filter(seminar__course=course).values_list("pk", flat=True))
    )


def meetings_reconcile(*, finished_too: bool = False) -> int:
    """Remove meetings whose session, room or event no longer wants them, then give personal links to
    the upcoming meetings made before they existed (meetings_personal_links_backfill).

    Catches what bypasses the services (e.g. deletions in the Django admin):
    the periodic reconciler, so no meeting is left orphaned. The frequent run
    looks at the meetings not yet finished (people may still join them), so it
    costs what is upcoming, not the history; `finished_too` (a daily run) looks
    at every meeting. Returns how many meetings were marked for deletion.
    """
    removed = 0
    for reference in meetings_unwanted(finished_too=finished_too):
        _meeting_remove(reference)
        removed += 1
    meetings_personal_links_backfill()
    return removed


def meetings_unwanted(*, finished_too: bool = False, now=None) -> list[str]:
    """References of present seminars meetings that no session wants any more: the session is gone, moved to
    another event or room, its room no longer provider-backed, or its event cancelled (a reference that is not
    one of ours is wanted by none). One query; without `finished_too`, only the meetings not yet finished (the
    index on their finish), so the history is not read.

    Each meeting looks its session up by primary key (a subquery per meeting, where NOT EXISTS lets
    PostgreSQL hash every session, event and room instead): the cost follows the meetings read."""
    from virtualmeeting.models import VirtualMeeting

    # A session wants the meeting whose reference is the one it makes (meeting_reference): same event and room.
    own_reference = Concat(
        Value(REFERENCE_PREFIX),
        "event_id",
        Value(":session:"),
        "pk",
        Value(":room:"),
        "room_id",
        output_field=CharField(),
    )
    wanting = (
        Session.objects.filter(pk=OuterRef("session_id"), room__isnull=False, event__cancelled=False)
        .exclude(room__virtual_kind__in=["", Room.CUSTOM_LINK])
        .annotate(own_reference=own_reference)
        .filter(own_reference=OuterRef("reference"))
    )
    # The session's id read from the reference (its 4th part), for the index; none when it is not a number.
    session_part = Func(F("reference"), Value(":"), Value(4), function="split_part", output_field=CharField())
    meetings = VirtualMeeting.objects.filter(reference__startswith=REFERENCE_PREFIX, present=True)
    if not finished_too:
        meetings = meetings.filter(Q(finish__gt=now or timezone.now()) | Q(finish__isnull=True))
    return list(
        meetings.annotate(session_part=session_part)
        .annotate(
            session_id=Case(
                When(session_part__regex=r"^[0-9]{1,18}$", then=Cast("session_part", BigIntegerField())),
                default=None,
            )
        )
        .annotate(wanted_by=Subquery(wanting.values("pk")[:1]))
        .filter(wanted_by__isnull=True)
        .order_by("pk")
        .values_list("reference", flat=True)
    )


def events_without_personal_links(*, limit: int = PERSONAL_LINKS_BACKFILL_LIMIT, now=None) -> list[int]:
    """Ids of events (at most `limit`) with a meeting not yet over that asks for no personal links: one made
    before personal links existed, and not saved since. The soonest meeting's event first; one query.
    """
    from virtualmeeting.models import VirtualMeeting

    rows = (
        VirtualMeeting.objects.filter(
            reference__startswith=REFERENCE_PREFIX, present=True, personal_links=False, finish__gt=now or timezone.now()
        )
        .order_by("start", "pk")
        .values_list("reference", flat=True)
    )
    # An event has a meeting per session in a provider room: read enough rows for `limit` events.
    event_ids = dict.fromkeys(parsed[0] for parsed in map(parse_reference, rows[: limit * 20]) if parsed)
    return list(event_ids)[:limit]


def meetings_personal_links_backfill(*, limit: int = PERSONAL_LINKS_BACKFILL_LIMIT) -> int:
    """Bring up to `limit` events whose upcoming meetings have no personal links into line, as saving the
    event would (event_meetings_sync): the meetings ask for registration and the seats are registered.

    Meetings made before personal links existed keep `personal_links=False` until their event is saved
    again; the periodic reconcile calls this so their learners get their own links anyway. Idempotent: an
    event brought into line is not found again, and a run with nothing to do is one query. An event that
    fails is logged and left for the next run; the others go on. Returns how many events were synced.
    """
    synced = 0
    for event_id in events_without_personal_links(limit=limit):
        try:
            with transaction.atomic():
                # The lock the event editor and the booking services take: seats do not move meanwhile.
                event = SeminarEvent.objects.select_for_update().filter(pk=event_id).first()
                if event is None:
                    continue
                event_meetings_sync(event=event)
        except Exception:
            log.exception(
                "Could not give personal links to the meetings of event %s; the next run tries again.", event_id
            )
            continue
        synced += 1
    return synced
