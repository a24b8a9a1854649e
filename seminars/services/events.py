"""Saving, cancelling and deleting seminar events with their sessions and ad-hoc rooms.

`event_save` is the one way an event changes: the event, its sessions and its
ad-hoc rooms are written in one transaction, and any problem rolls all of it
back. Problems are raised as a ValidationError whose keys name what caused
them: an event field ("capacity") or a session row and its field
("sessions.2.room", "sessions.2.__all__").
"""

from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from seminars.minimum_warnings import minimum_warning_rearm
from seminars.models import Booking, EventTrainer, Room, Seminar, SeminarEvent, Session
from seminars.selectors.trainers import course_staff
from seminars.services.rooms import (
    room_alternative_hosts,
    room_alternative_hosts_to_check,
    room_conflicts,
    room_errors,
    room_hosting_set,
)
from seminars.timezones import UNKNOWN_ZONE_MESSAGE, is_valid_zone, time_span, viewer_zone
from seminars.validators import (
    MINIMUM_ABOVE_CAPACITY_MESSAGE,
    REGISTRATION_ORDER_MESSAGE,
    problems,
    session_range_message,
    validate_capacity,
    validate_cutoff_hours,
    validate_minimum_bookings,
    validate_multi_line,
    validate_session_moment,
    validate_single_line,
)

EVENT_FIELDS = (
    "name",
    "details",
    "capacity",
    "waitlist_enabled",
    "cancellation_policy",
    "cancellation_cutoff_hours",
    "minimum_bookings",
    "registration_opens_at",
    "registration_closes_at",
)
ROOM_FIELDS = (
    "name",
    "capacity",
    "description",
    "virtual_kind",
    "virtual_url",
    "virtual_host",
    "virtual_alternative_hosts",
)
NAME_MAX_LENGTH = SeminarEvent._meta.get_field("name").max_length
TEXT_FIELD_VALIDATORS = {
    "name": (validate_single_line, MaxLengthValidator(NAME_MAX_LENGTH)),
    "details": (validate_multi_line,),
}
_NOT_TEXT = _("Enter text.")
ACTIVE_STATES = (*Booking.SEAT_STATES, Booking.State.WAITLISTED)


def session_error_key(row, field_name="__all__") -> str:
    return f"sessions.{row}.{field_name}"


def local_to_utc(naive: datetime, zone: str) -> datetime:
    """A wall-clock time in `zone` as an aware UTC datetime.

    A time the clocks skip (spring forward) does not exist and is refused; a
    time that happens twice (clocks go back) means its first occurrence.
    """
    tz = ZoneInfo(zone)
    aware = naive.replace(tzinfo=tz, fold=0)
    try:
        utc = aware.astimezone(ZoneInfo("UTC"))
    except OverflowError:  # within a day of the years 1 or 9999
        raise ValidationError(session_range_message(), code="out_of_range") from None
    if utc.astimezone(tz).replace(tzinfo=None) != naive.replace(tzinfo=None):
        raise ValidationError(
            _("%(time)s does not exist on %(date)s in %(zone)s: the clocks go forward then. Choose another time.")
            % {"time": f"{naive:%H:%M}", "date": date_format(naive, "j M Y"), "zone": zone},
            code="nonexistent_time",
        )
    return utc


class _Errors:
    """Messages collected by key, so that every problem is reported at once."""

    def __init__(self):
        self.by_key = defaultdict(list)

    def add(self, key: str, message: str) -> None:
        self.by_key[key].append(message)

    def raise_if_any(self) -> None:
        if self.by_key:
            raise ValidationError(dict(self.by_key))


def event_save(*, event_or_none: SeminarEvent | None, seminar: Seminar, data: dict, actor) -> SeminarEvent:
    """Create or update an event with its sessions and ad-hoc rooms, atomically.

    `data` holds the event fields (EVENT_FIELDS) and `sessions`: a list of
    dicts with `row` (the form row, for error keys), `id` (an existing
    session's id or None), aware `start` and `finish`, `time_zone`, and `room`:
    None, {"mode": "site", "id": ...}, {"mode": "adhoc", "id": ..., <room fields>}
    or {"mode": "new", <room fields>}. Sessions of the event missing from the
    list are deleted, and ad-hoc rooms no session uses any more are removed.

    `trainers`, when given, is the event's whole set of assigned trainers, {user id: role}, chosen
    among the course's staff; a trainer assigned to another event's session at an overlapping time
    is refused (key "trainers.<user id>") unless `allow_trainer_conflicts` is true. Conflicts that
    were already there before this save were accepted then and are not asked about again.

    Raises ValidationError (keys as in the module docstring); nothing is saved then.
    """
    rows = [_row_with_defaults(index, row) for index, row in enumerate(data.get("sessions", []))]
    errors = _Errors()
    _check_rows(rows, errors)
    errors.raise_if_any()
    # Rooms made in the site's account need a host: asked of the provider now, not under the locks below.
    from seminars.meetings import rooms_account_hosts, rooms_alternative_hosts

    account_hosts = rooms_account_hosts(choices=_new_provider_rooms(rows, event_or_none), user=actor)
    account_hosts.update(
        rooms_alternative_hosts(choices=_alternative_hosts_to_check(rows, event_or_none), known=account_hosts)
    )

    with transaction.atomic():
        event = _locked_event(event_or_none, seminar)
        if event.cancelled:
            raise ValidationError({"__all__": [_("This event is cancelled: it can no longer be changed.")]})
        old_sessions = {s.pk: s for s in event.sessions.select_for_update()} if event.pk else {}
        # Taken now: writing the rows changes these session objects in place.
        old_times = {(s.start, s.finish, s.time_zone) for s in old_sessions.values()}
        old_capacity = event.capacity if event.pk else None
        booked = event.bookings.filter(state__in=Booking.SEAT_STATES).count() if event.pk else 0

        _check_event_fields(data, booked, errors)
        _check_session_ids(rows, old_sessions, errors)
        _check_rooms(rows, event, actor, errors, account_hosts)
        trainers = _check_trainers(data.get("trainers"), seminar, errors)
        errors.raise_if_any()

        accepted = _trainer_conflict_keys(trainer_conflicts(event=event)) if event.pk else set()
        _write_event(event, data, seminar, actor)
        kept_ids = _write_sessions(rows, event, old_sessions, actor, errors)
        # What calendars need to withdraw the removed sessions, taken before the rows go.
        removed = [
            SimpleNamespace(
                pk=s.pk, start=s.start, finish=s.finish, room=SimpleNamespace(name=s.room.name) if s.room else None
            )
            for pk, s in old_sessions.items()
            if pk not in kept_ids
        ]
        Session.objects.filter(event=event).exclude(pk__in=kept_ids).delete()
        event.adhoc_rooms.filter(sessions__isnull=True).delete()
        allow_conflicts = bool(data.get("allow_trainer_conflicts"))
        if not allow_conflicts:
            _lock_trainers(trainers if trainers is not None else event.trainers.values_list("user_id", flat=True))
        if trainers is not None:
            _write_trainers(event, trainers)
        if not allow_conflicts:
            _refuse_trainer_conflicts(event, accepted, actor=actor)

        new_times = {(r["start"], r["finish"], r["time_zone"]) for r in rows}
        minimum_warning_rearm(
            event=event,
            old_first_start=min((start for start, _finish, _zone in old_times), default=None),
            new_first_start=min((r["start"] for r in rows), default=None),
        )
        if new_times != old_times and event.bookings.filter(state__in=ACTIVE_STATES).exists():
            _notify_times_changed(event, removed)
        if old_capacity is not None and ((not old_sessions and rows) or event.capacity > old_capacity):
            from seminars.services.bookings import bookings_promote_waitlist

            bookings_promote_waitlist(event=event, actor=actor)

        from seminars.meetings import event_meetings_sync

        event_meetings_sync(event=event)
    return event


def event_create_once(*, seminar: Seminar, data: dict, actor, creation_token) -> tuple[SeminarEvent, bool]:
    """Create an event from an "Add event" form that carries a one-time `creation_token`.

    Returns (event, created). The same form submitted again (a double or triple click,
    a resubmit after a slow answer) returns the event the first submit created, even
    when the submits race: the token is unique in the database. Raises ValidationError
    as event_save does.
    """
    existing = _event_created_with(creation_token, seminar)
    if existing is not None:
        return existing, False
    try:
        return event_save(
            event_or_none=None, seminar=seminar, data={**data, "creation_token": creation_token}, actor=actor
        ), True
    except IntegrityError:
        # Another submit of the same form committed first; this one's transaction was rolled back.
        existing = _event_created_with(creation_token, seminar)
        if existing is None:
            raise
        return existing, False


def _event_created_with(creation_token, seminar: Seminar) -> SeminarEvent | None:
    event = SeminarEvent.objects.filter(creation_token=creation_token).first()
    if event is not None and event.seminar_id != seminar.pk:
        raise ValidationError(
            {"form_token": [_("This form is out of date: reload the page and enter the event again.")]}
        )
    return event


def _write_event(event: SeminarEvent, data: dict, seminar: Seminar, actor) -> None:
    for name in EVENT_FIELDS:
        if name in data:
            setattr(event, name, data[name])
    if not event.pk:
        event.seminar = seminar
        event.created_by = actor
        event.creation_token = data.get("creation_token")
    event.save()


def _write_sessions(rows: list[dict], event: SeminarEvent, old_sessions: dict, actor, errors: "_Errors") -> set[int]:
    """Write every row; return the ids of the sessions kept.

    Site-room conflicts are checked as each row is written, under the site-room
    locks: a conflict in any row raises, and the transaction takes back every
    row written before it.
    """
    _lock_site_rooms(rows)
    kept_ids = set()
    for row in rows:
        session = _save_row(row, event, old_sessions, actor, errors)
        if session is not None:
            kept_ids.add(session.pk)
    errors.raise_if_any()
    return kept_ids


def event_sessions_errors(rows: list[dict]) -> dict[str, list[str]]:
    """The problems the session rows have by themselves and with each other (no database needed).

    event_save checks these too; the editor also calls it when other fields are
    invalid, so that every problem is shown at once.
    """
    errors = _Errors()
    _check_rows([_row_with_defaults(index, row) for index, row in enumerate(rows)], errors)
    return dict(errors.by_key)


def _row_with_defaults(index: int, row: dict) -> dict:
    return {"row": row.get("row", index), "id": row.get("id"), "room": row.get("room"), **row}


def _locked_event(event_or_none, seminar) -> SeminarEvent:
    if event_or_none is None or not event_or_none.pk:
        return event_or_none or SeminarEvent(seminar=seminar)
    return SeminarEvent.objects.select_for_update().get(pk=event_or_none.pk)


def _check_rows(rows: list[dict], errors: _Errors) -> None:
    """What the rows say about themselves and each other: zones, order, overlaps."""
    valid = []
    for row in rows:
        key = row["row"]
        if not is_valid_zone(row.get("time_zone")):
            errors.add(session_error_key(key, "time_zone"), UNKNOWN_ZONE_MESSAGE)
        start, finish = row.get("start"), row.get("finish")
        if not isinstance(start, datetime) or timezone.is_naive(start):
            errors.add(session_error_key(key, "start"), _("Enter the start date and time."))
            continue
        if not isinstance(finish, datetime) or timezone.is_naive(finish):
            errors.add(session_error_key(key, "finish"), _("Enter the finish date and time."))
            continue
        out_of_range = False
        for name in ("start", "finish"):
            for message in problems(row[name], validate_session_moment):
                errors.add(session_error_key(key, name), message)
                out_of_range = True
        if out_of_range:
            continue
        if finish <= start:
            errors.add(session_error_key(key, "finish"), _("The finish must be after the start."))
            continue
        valid.append(row)

    for position, row in enumerate(valid):
        for earlier in valid[:position]:
            message = _clash(row, earlier, number=rows.index(earlier) + 1)
            if message:
                errors.add(session_error_key(row["row"]), message)
                break


def _clash(row: dict, other: dict, *, number: int) -> str:
    if row["start"] == other["start"]:
        return _("This session starts at the same time as session %(number)d.") % {"number": number}
    if row["finish"] == other["finish"]:
        return _("This session finishes at the same time as session %(number)d.") % {"number": number}
    if row["start"] < other["finish"] and other["start"] < row["finish"]:
        return _("This session overlaps session %(number)d.") % {"number": number}
    return ""


def _check_event_fields(data: dict, booked: int, errors: _Errors) -> None:
    for name, validators in TEXT_FIELD_VALIDATORS.items():
        value = data.get(name) or ""
        for message in problems(value, *validators) if isinstance(value, str) else [_NOT_TEXT]:
            errors.add(name, message)
    capacity = data.get("capacity")
    capacity_problems = problems(capacity, validate_capacity)
    for message in capacity_problems:
        errors.add("capacity", message)
    if not capacity_problems and capacity < booked:
        errors.add(
            "capacity",
            ngettext(
                "Capacity cannot be less than the %(count)d learner already booked.",
                "Capacity cannot be less than the %(count)d learners already booked.",
                booked,
            )
            % {"count": booked},
        )
    policy = data.get("cancellation_policy", SeminarEvent.CancellationPolicy.CUTOFF)
    if policy not in SeminarEvent.CancellationPolicy.values:
        errors.add("cancellation_policy", _("Choose a cancellation policy from the list."))
    for message in problems(data.get("cancellation_cutoff_hours", 24), validate_cutoff_hours):
        errors.add("cancellation_cutoff_hours", message)
    minimum = data.get("minimum_bookings")
    if minimum is not None:
        found = problems(minimum, validate_minimum_bookings)
        for message in found:
            errors.add("minimum_bookings", message)
        if not found and not capacity_problems and minimum > capacity:
            errors.add("minimum_bookings", MINIMUM_ABOVE_CAPACITY_MESSAGE)
    _check_registration_window(data, errors)


def _check_registration_window(data: dict, errors: _Errors) -> None:
    """Registration times are optional moments in the session range, closing after opening. Closing
    after the first session starts is allowed (booking closes at the start anyway), so moving the
    sessions never makes a saved window invalid."""
    moments = {}
    for name in ("registration_opens_at", "registration_closes_at"):
        value = data.get(name)
        if value is None:
            continue
        found = problems(value, validate_session_moment)
        for message in found:
            errors.add(name, message)
        if not found:
            moments[name] = value
    if len(moments) == 2 and moments["registration_closes_at"] <= moments["registration_opens_at"]:
        errors.add("registration_closes_at", REGISTRATION_ORDER_MESSAGE)


def _check_session_ids(rows: list[dict], old_sessions: dict, errors: _Errors) -> None:
    for row in rows:
        if row["id"] is not None and row["id"] not in old_sessions:
            errors.add(session_error_key(row["row"]), _("This session is not part of this event any more."))


def _new_provider_rooms(rows: list[dict], event: SeminarEvent | None) -> list[tuple[str, str]]:
    """(link kind, chosen host or "") of the rows' rooms made now or switched to another kind (a room keeping its
    kind keeps its hosting): those may need a host."""
    choices = [row["room"] for row in rows if row["room"] and row["room"].get("mode") in ("adhoc", "new")]
    ids = [
        choice.get("id") for choice in choices if choice.get("mode") == "adhoc" and isinstance(choice.get("id"), int)
    ]
    stored = dict(Room.objects.filter(pk__in=ids, event=event).values_list("pk", "virtual_kind")) if event else {}
    kinds = []
    for choice in choices:
        kind = choice.get("virtual_kind")
        if isinstance(kind, str) and (choice.get("mode") == "new" or stored.get(choice.get("id")) != kind):
            host = choice.get("virtual_host")
            kinds.append((kind, host if isinstance(host, str) else ""))
    return kinds


def _alternative_hosts_to_check(rows: list[dict], event: SeminarEvent | None) -> list[tuple[str, str]]:
    """(link kind, email or id) of the alternative hosts the rows' rooms newly name in the site's account."""
    choices = [row["room"] for row in rows if row["room"] and row["room"].get("mode") in ("adhoc", "new")]
    ids = [
        choice.get("id") for choice in choices if choice.get("mode") == "adhoc" and isinstance(choice.get("id"), int)
    ]
    rooms = {room.pk: room for room in event.adhoc_rooms.filter(pk__in=ids)} if event and event.pk else {}
    found = []
    for choice in choices:
        previous = rooms.get(choice.get("id")) if choice.get("mode") == "adhoc" else None
        fields = {name: choice.get(name, getattr(previous, name, "")) for name in ROOM_FIELDS}
        found.extend(room_alternative_hosts_to_check(fields=fields, previous=previous))
    return found


def _check_rooms(rows: list[dict], event: SeminarEvent, actor, errors: _Errors, account_hosts: dict) -> None:
    """The room choice of each row, except conflicts (checked while writing, under locks)."""
    adhoc = {r.pk: r for r in event.adhoc_rooms.all()} if event.pk else {}
    site_ids = [r["room"]["id"] for r in rows if r["room"] and r["room"].get("mode") == "site"]
    site = {r.pk: r for r in Room.objects.filter(pk__in=site_ids, event__isnull=True)}
    for row in rows:
        choice = row["room"]
        if not choice:
            continue
        key = session_error_key(row["row"], "room")
        mode = choice.get("mode")
        if mode == "site":
            room = site.get(choice.get("id"))
            if room is None:
                errors.add(key, _("This site room does not exist any more. Choose another room."))
            row["_room"] = room
        elif mode in ("adhoc", "new"):
            previous = None
            if mode == "adhoc":
                previous = adhoc.get(choice.get("id"))
                if previous is None:
                    errors.add(key, _("This room does not belong to this event. Choose another room."))
                    continue
            fields = {name: choice.get(name, getattr(previous, name, "")) for name in ROOM_FIELDS}
            problems = room_errors(
                fields=fields, site_room=False, actor=actor, previous=previous, account_hosts=account_hosts
            )
            for messages in problems.values():
                for message in messages:
                    errors.add(key, message)
            row["_room"] = previous
            row["_room_fields"] = fields
            row["_account_hosts"] = account_hosts
        else:
            errors.add(key, _("The room choice is not valid. Select the room again."))


def _check_trainers(chosen, seminar: Seminar, errors: _Errors) -> dict | None:
    """The chosen trainers as {user id: role}, or None to keep the event's; only the course's staff."""
    if chosen is None:
        return None
    staff = {user.pk for user in course_staff(seminar.course)}
    trainers = {}
    for user_id, role in dict(chosen).items():
        if user_id not in staff:
            errors.add(
                "trainers",
                _("Only the course's trainers and editing trainers can run its events. Choose the trainers again."),
            )
            return None
        if role not in EventTrainer.Role.values:
            errors.add(trainer_error_key(user_id), _("Choose a role from the list."))
            continue
        trainers[user_id] = role
    return trainers


def trainer_error_key(user_id: int) -> str:
    return f"trainers.{user_id}"


def _write_trainers(event: SeminarEvent, trainers: dict) -> None:
    event.trainers.exclude(user_id__in=list(trainers)).delete()
    current = {row.user_id: row for row in event.trainers.all()}
    for user_id, role in trainers.items():
        row = current.get(user_id)
        if row is None:
            EventTrainer.objects.create(event=event, user_id=user_id, role=role)
        elif row.role != role:
            row.role = role
            row.save(update_fields=["role"])


def trainer_conflicts(*, event: SeminarEvent) -> list[tuple]:
    """(trainer, session of `event`, overlapping session of another live event) for each trainer
    assigned to `event` who is also assigned to the other session's event. Sessions that touch (one
    ends when the other starts) do not overlap."""
    assigned = {row.user_id: row.user for row in event.trainers.select_related("user")}
    own = list(event.sessions.order_by("start", "pk"))
    if not assigned or not own:
        return []
    overlapping = Q()
    for session in own:
        overlapping |= Q(start__lt=session.finish, finish__gt=session.start)
    others = list(
        Session.objects.filter(overlapping, event__cancelled=False, event__trainers__user_id__in=list(assigned))
        .exclude(event=event)
        .select_related("event__seminar")
        .distinct()
        .order_by("start", "pk")
    )
    if not others:
        return []
    also_on = defaultdict(set)
    for event_id, user_id in EventTrainer.objects.filter(
        event_id__in={other.event_id for other in others}, user_id__in=list(assigned)
    ).values_list("event_id", "user_id"):
        also_on[event_id].add(user_id)
    found = []
    for user_id, user in sorted(assigned.items()):
        for other in others:
            if user_id not in also_on[other.event_id]:
                continue
            mine = next(s for s in own if s.start < other.finish and other.start < s.finish)
            found.append((user, mine, other))
    return found


def _trainer_conflict_keys(conflicts) -> set[tuple[int, int]]:
    return {(user.pk, other.pk) for user, _mine, other in conflicts}


def _refuse_trainer_conflicts(event: SeminarEvent, accepted: set, *, actor) -> None:
    """Refuse (rolling the save back) a trainer newly double-booked; call it with the trainers locked."""
    conflicts = [c for c in trainer_conflicts(event=event) if (c[0].pk, c[2].pk) not in accepted]
    if not conflicts:
        return
    zone = viewer_zone(actor)
    errors = _Errors()
    for user, _mine, other in conflicts:
        errors.add(
            trainer_error_key(user.pk),
            _(
                "%(trainer)s already runs %(event)s at an overlapping time: %(when)s. Choose another trainer or "
                'time, or tick "Allow trainer conflicts".'
            )
            % {
                "trainer": user.get_full_name() or user.get_username(),
                "event": f"{other.event.seminar.name}, {other.event.title}",
                "when": _span_in(other, zone),
            },
        )
    errors.raise_if_any()


def _span_in(session: Session, zone: str) -> str:
    span = time_span(session.start, session.finish, zone)
    return span if span.endswith(f" {zone}") else f"{span} ({zone})"  # "UTC", not "UTC (UTC)"


def _lock_trainers(user_ids) -> None:
    """Lock the trainers' user rows (in id order) before their assignments are written and checked:
    two events saved at once cannot both give one trainer the same hour unseen."""
    ids = sorted(user_ids)
    if ids:
        list(
            get_user_model().objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
        )


def _lock_site_rooms(rows: list[dict]) -> None:
    """Lock the chosen site rooms (in id order) so two saves cannot book one room at once."""
    ids = sorted({row["_room"].pk for row in rows if row["room"] and row["room"]["mode"] == "site"})
    if ids:
        list(Room.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _save_row(row: dict, event: SeminarEvent, old_sessions: dict, actor, errors: _Errors) -> Session | None:
    room = _room_for_row(row, event, actor)
    if room is not None and room.is_site_room and not room.allow_conflicts:
        if room_conflicts(room=room, start=row["start"], finish=row["finish"], exclude_event=event).exists():
            errors.add(
                session_error_key(row["row"], "room"),
                _("%(room)s is already booked by another event at this time. Choose another room or time.")
                % {"room": room.name},
            )
            return None
    session = old_sessions.get(row["id"]) or Session(event=event)
    session.start, session.finish, session.time_zone = row["start"], row["finish"], row["time_zone"]
    session.room = room
    session.save()
    return session


def _room_for_row(row: dict, event: SeminarEvent, actor) -> Room | None:
    choice = row["room"]
    if not choice:
        return None
    if choice["mode"] == "site":
        return row["_room"]
    room = row["_room"] or Room(event=event, created_by=actor)
    fields = row["_room_fields"]
    # Taken before the room changes: those it keeps are read from it as it was.
    alternative_hosts = room_alternative_hosts(
        fields=fields, previous=row["_room"], account_hosts=row.get("_account_hosts")
    )
    to_provider = fields["virtual_kind"] not in ("", Room.CUSTOM_LINK) and (
        not room.pk or fields["virtual_kind"] != room.virtual_kind
    )
    if room.pk and to_provider:
        # A room switched to a provider: its meetings belong to whoever connected it.
        room.created_by = actor
    room.name = fields["name"].strip()
    room.capacity = fields["capacity"]
    room.description = fields["description"] or ""
    room.virtual_kind = fields["virtual_kind"] or ""
    room.virtual_url = (fields["virtual_url"] or "").strip() if room.virtual_kind == Room.CUSTOM_LINK else ""
    if to_provider:
        # Made now: the provider's hosting now (an existing room keeps its own until it is moved).
        room_hosting_set(room=room, account_hosts=row.get("_account_hosts"), chosen=fields.get("virtual_host") or "")
    room.virtual_alternative_hosts = alternative_hosts if room.in_site_account else []
    room.save()
    return room


def _notify_times_changed(event: SeminarEvent, removed: list) -> None:
    # In this transaction: the notices are recorded with the change (each on its own
    # savepoint) and the emails are sent by tasks after the commit, so nothing that
    # fails there can stop the other side effects or fail the save.
    from seminars.notifications import notify_event_times_changed

    notify_event_times_changed(event=event, removed_sessions=removed)


def event_cancel(*, event: SeminarEvent, actor, reason="") -> SeminarEvent:
    """Cancel an event: keep its data, tell its learners (with `reason`, kept in each booking's
    history), and take down its virtual meetings."""
    from seminars.meetings import event_meetings_sync
    from seminars.services.bookings import bookings_event_cancelled

    with transaction.atomic():
        event = SeminarEvent.objects.select_for_update().get(pk=event.pk)
        if event.cancelled:
            return event
        event.cancelled = True
        event.cancelled_at = timezone.now()
        event.save(update_fields=["cancelled", "cancelled_at", "updated_at"])
        bookings_event_cancelled(event=event, actor=actor, reason=reason)
        event_meetings_sync(event=event)
    return event


def event_delete(*, event: SeminarEvent, actor) -> None:
    """Delete an event with its sessions, ad-hoc rooms and bookings, removing its meetings first."""
    from seminars.meetings import event_meetings_remove

    with transaction.atomic():
        event = SeminarEvent.objects.select_for_update().get(pk=event.pk)
        event_meetings_remove(event=event)
        event.delete()
