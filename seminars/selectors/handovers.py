"""Reading handovers: whose rooms need a new owner, what a handover would move, and how far a handover is.

A provider-backed room's meetings are made in its owner's own connection or, in the site's account, for its
host (seminars.models.Room). A room "needs a new owner" when it has sessions still to start and its owner is
deactivated in the LMS, or (for a room in the owner's own connection) that connection is revoked or gone.
A handover moves the meetings of sessions still to start; a session that has started keeps its meeting
where it was made (seminars.meetings).
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from seminars.meetings import meeting_reference
from seminars.models import Room, RoomHandover, Session

PROVIDER_ROOM = ~Q(virtual_kind__in=["", Room.CUSTOM_LINK])


def _still_to_start(now=None) -> Q:
    """Sessions a handover moves: not started yet, of an event still on."""
    return Q(start__gt=now or timezone.now(), event__cancelled=False)


def owner_rooms(*, owner_id: int, provider: str | None = None, now=None) -> list[Room]:
    """The provider-backed rooms `owner_id` owns with a session still to start (what "every room of a trainer"
    hands over), by name; one query."""
    rooms = Room.objects.filter(PROVIDER_ROOM, created_by_id=owner_id).filter(
        pk__in=Session.objects.filter(_still_to_start(now)).values("room_id")
    )
    if provider:
        rooms = rooms.filter(virtual_kind=provider)
    return list(rooms.select_related("event__seminar__course").order_by("name", "pk"))


def rooms_sessions_to_start(*, room_ids, now=None) -> list[Session]:
    """The sessions still to start in these rooms, soonest first, with what a list of them shows; one query."""
    return list(
        Session.objects.filter(_still_to_start(now), room_id__in=list(room_ids))
        .select_related("room", "event__seminar__course")
        .order_by("start", "pk")
    )


@dataclass
class OwnerAtRisk:
    """An owner whose rooms need a new owner: why, and what is affected."""

    owner: object
    provider: str
    reasons: list[str] = field(default_factory=list)
    room_ids: set = field(default_factory=set)
    sessions: int = 0
    next_start: object = None


def owners_at_risk(*, now=None) -> list[OwnerAtRisk]:
    """Owners of provider-backed rooms with sessions still to start who are deactivated, or whose own
    connection (for the rooms made in it) is revoked or gone: by provider and owner, soonest session first.
    Three queries, whatever the number of rooms."""
    from virtualmeeting.models import ProviderConnection

    rows = list(
        Session.objects.filter(_still_to_start(now), room__created_by__isnull=False)
        .filter(Q(room__virtual_kind__gt="") & ~Q(room__virtual_kind=Room.CUSTOM_LINK))
        .values_list("room_id", "room__created_by_id", "room__virtual_kind", "room__virtual_hosting", "start")
    )
    if not rows:
        return []
    owner_ids = {row[1] for row in rows}
    users = get_user_model().objects.in_bulk(owner_ids)
    usable = {(c.user_id, c.provider) for c in ProviderConnection.objects.filter(user_id__in=owner_ids) if c.is_usable}
    found: dict[tuple[int, str], OwnerAtRisk] = {}
    for room_id, owner_id, provider, hosting, start in rows:
        owner = users.get(owner_id)
        reasons = []
        if owner is not None and not owner.is_active:
            reasons.append(_("deactivated in the LMS"))
        if hosting == Room.HOSTING_USER and (owner_id, provider) not in usable:
            reasons.append(_("their own connection is revoked or gone"))
        if not reasons or owner is None:
            continue
        entry = found.setdefault((owner_id, provider), OwnerAtRisk(owner=owner, provider=provider))
        for reason in reasons:
            if reason not in entry.reasons:
                entry.reasons.append(reason)
        entry.room_ids.add(room_id)
        entry.sessions += 1
        entry.next_start = start if entry.next_start is None else min(entry.next_start, start)
    return sorted(found.values(), key=lambda entry: (entry.next_start, entry.owner.pk, entry.provider))


def handovers_recent():
    """Handovers, newest first, with who did them and to whom (a queryset, for paging)."""
    return RoomHandover.objects.select_related("created_by", "from_owner", "to_owner").prefetch_related("rooms")


class Placement:
    """Where a handed-over session's meeting is, in a handover's progress."""

    MOVED = "moved"
    MOVING = "moving"
    WAITING = "waiting"
    FAILED = "failed"
    HANDED_ON = "handed_on"  # the room was handed over again since: a later handover moves it
    NO_MEETING = "no_meeting"  # the room no longer has a provider meeting for it (switched, removed)


@dataclass
class HandoverProgress:
    """The meetings a handover moves, each with where it is; counts by Placement."""

    rows: list  # (session, meeting or None, placement)
    counts: dict

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> bool:
        """Nothing is left moving (each meeting is moved, failed and told, handed on, or no longer wanted)."""
        return not self.counts.get(Placement.MOVING) and not self.counts.get(Placement.WAITING)


def handover_progress(*, handover: RoomHandover) -> HandoverProgress:
    """The sessions of the handed rooms that were still to start at the handover, and where each one's meeting
    is now. Three queries."""
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.selectors import meeting_in_place

    room_ids = [row.room_id for row in handover.rooms.all() if row.room_id]
    sessions = list(
        Session.objects.filter(room_id__in=room_ids, start__gt=handover.created_at, event__cancelled=False)
        .select_related("room", "event__seminar")
        .order_by("start", "pk")
    )
    references = {meeting_reference(session, session.room): session for session in sessions}
    meetings = {m.reference: m for m in VirtualMeeting.objects.filter(reference__in=list(references), present=True)}
    rows, counts = [], {}
    for reference, session in references.items():
        meeting = meetings.get(reference)
        placement = _placement(handover, meeting, meeting_in_place)
        counts[placement] = counts.get(placement, 0) + 1
        rows.append((session, meeting, placement))
    return HandoverProgress(rows=rows, counts=counts)


def _placement(handover: RoomHandover, meeting, in_place) -> str:
    Status = type(meeting).Status if meeting is not None else None
    if meeting is None:
        return Placement.NO_MEETING
    if handover.to_hosting == Room.HOSTING_ACCOUNT:
        wanted = meeting.hosting == Room.HOSTING_ACCOUNT and meeting.host == handover.to_host
    else:
        wanted = meeting.hosting == Room.HOSTING_USER and meeting.owner_id == handover.to_owner_id
    if not wanted:
        return Placement.HANDED_ON
    if in_place(meeting):
        return Placement.MOVED
    if meeting.status == Status.FAILED:
        return Placement.FAILED
    if meeting.status in (Status.WAITING, Status.HELD):
        return Placement.WAITING
    return Placement.MOVING
