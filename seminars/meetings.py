"""The seminars side of virtual meetings: which meetings should exist, and the link options.

seminars decides; virtualmeeting (which never imports seminars) does the work.
Each (session, provider-backed room) pair wants one meeting, named by a
reference string this module owns:

    seminars.event:<event id>:session:<session id>:room:<room id>

The functions here run inside the transaction that changes the seminar data;
virtualmeeting.services records the desired state in the same transaction and
queues the remote work after commit.
"""

import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from seminars.models import Room, Seminar, SeminarEvent, Session

REFERENCE_PREFIX = "seminars.event:"
_REFERENCE_RE = re.compile(r"^seminars\.event:(\d+):session:(\d+):room:(\d+)$")


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
        options.append({"value": provider.id, "label": provider.name, "needs_connection": provider.needs_connection})
    return options


def meeting_reference(session: Session, room: Room) -> str:
    return f"{REFERENCE_PREFIX}{session.event_id}:session:{session.pk}:room:{room.pk}"


def parse_reference(reference: str) -> tuple[int, int, int] | None:
    """(event id, session id, room id) of a seminars meeting reference, or None."""
    match = _REFERENCE_RE.match(reference)
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


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
    sessions = list(event.sessions.select_related("room").order_by("start", "pk"))
    desired = {}
    for position, session in enumerate(sessions, start=1):
        room = session.room
        if room is None or not room.is_provider_backed:
            continue
        desired[meeting_reference(session, room)] = {
            "provider": room.virtual_kind,
            "owner": room.created_by,
            "topic": meeting_topic(session, position, len(sessions)),
            "start": session.start,
            "finish": session.finish,
            "time_zone": session.time_zone,
            "agenda": event.details,
        }
    return desired


def event_meetings_sync(*, event: SeminarEvent) -> None:
    """Make the event's meeting rows say what should exist; call inside the saving transaction.

    Sessions added, moved or re-zoned and an event renamed update or create
    meetings; sessions removed, rooms removed or switched away from a provider,
    and a cancelled event delete them. Failed or waiting operations of the
    event are re-queued: saving again ("Save changes" with no edits) retries.
    """
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.services import meeting_put, meeting_remove, meetings_requeue

    event = SeminarEvent.objects.select_related("seminar").get(pk=event.pk)
    desired = _desired_meetings(event)
    for reference, state in desired.items():
        meeting_put(reference=reference, **state)
    existing = VirtualMeeting.objects.filter(reference__startswith=_event_prefix(event.pk), present=True)
    for reference in existing.values_list("reference", flat=True):
        if reference not in desired:
            meeting_remove(reference=reference)
    if desired:
        meetings_requeue(references=list(desired))


def event_meetings_remove(*, event: SeminarEvent) -> None:
    """Delete every meeting of the event (the event is going away); call inside the transaction."""
    events_meetings_remove(event_ids=[event.pk])


def events_meetings_remove(*, event_ids) -> None:
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.services import meeting_remove

    for event_id in event_ids:
        rows = VirtualMeeting.objects.filter(reference__startswith=_event_prefix(event_id), present=True)
        for reference in rows.values_list("reference", flat=True):
            meeting_remove(reference=reference)


def seminar_meetings_remove(*, seminar: Seminar) -> None:
    events_meetings_remove(event_ids=list(seminar.events.values_list("pk", flat=True)))


def course_meetings_remove(*, course) -> None:
    events_meetings_remove(
        event_ids=list(SeminarEvent.objects.filter(seminar__course=course).values_list("pk", flat=True))
    )


def meetings_reconcile() -> int:
    """Remove meetings whose session, room or event no longer wants them.

    Catches what bypasses the services (e.g. deletions in the Django admin):
    the periodic reconciler, so no meeting is left orphaned. Returns how many
    meetings were marked for deletion.
    """
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.services import meeting_remove

    rows = list(
        VirtualMeeting.objects.filter(reference__startswith=REFERENCE_PREFIX, present=True).values_list(
            "reference", flat=True
        )
    )
    parsed = {ref: parse_reference(ref) for ref in rows}
    session_ids = {p[1] for p in parsed.values() if p}
    sessions = {s.pk: s for s in Session.objects.filter(pk__in=session_ids).select_related("room", "event")}
    removed = 0
    for reference, parts in parsed.items():
        session = sessions.get(parts[1]) if parts else None
        still_wanted = (
            session is not None
            and session.event_id == parts[0]
            and session.room_id == parts[2]
            and session.room is not None
            and session.room.is_provider_backed
            and not session.event.cancelled
        )
        if not still_wanted:
            meeting_remove(reference=reference)
            removed += 1
    return removed
