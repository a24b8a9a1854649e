"""What every viewer of an event sees the same, cached: the event with its seminar, course, seat count, sessions and
rooms, its trainers, and (for its trainers) its attendees; and the HTML made from them (`fragment`).

The event page and the lists read these instead of asking the database on every request. Each value is stored
with the generation tokens it was computed under (lms.generations), so no page ever shows it stale:
- the event's token moves on any save or delete of the event, its sessions, its bookings and its trainer
  assignments, and of a room any of its sessions is in;
- its course's token moves on any change to the course, its seminars and its enrolments (who is on the staff
  decides who the trainers are);
- the site's token moves when a person's name, email or status changes (trainers and attendees are listed by
  name), and by `reset`;
- RECORDINGS moves when any recording file is stored, changes status or goes (virtualmeeting saves and deletes
  them one by one and says so in `recordings_updated`): under it only whether an event has recordings is kept.
- REQUESTS moves on any save or delete of a booking, seminar, enrolment, profile or person: under it each
  person's count of the requests they may decide ("Approvals" in the header) is kept.
A viewer's own booking on an event is kept under the event's token (bookings move it). The event page's attendee
table is kept by its template (`{% cache %}` on the event's version, zone, language and whether attendance is
open); the forms its buttons post with, each with the viewer's CSRF token, are outside it.
The receivers at the end of this module move them; `seminars/tests/test_page_cache.py` changes each of these
things the way the product does and checks the next page shows it.

The receivers see saves and deletes, not `QuerySet.update()`: code that changes these rows with an UPDATE must call
`events_changed` itself (today only columns no page shows are written that way).

What depends on the viewer (their booking, what they may do, the virtual room's buttons) or on the clock (the
event's status, the join window) is never part of a cached value: the views work it out on every request from
the cached data.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.http import Http404

from lms import generations
from seminars.models import (
    Booking,
    Course,
    Enrolment,
    EventTrainer,
    Profile,
    Room,
    Seminar,
    SeminarEvent,
    Session,
)
from seminars.selectors.courses import SeminarList, seminar_events_page
from virtualmeeting.models import MeetingRecording

SITE = "pages:gen:site"
# Moves when any meeting's recording files are stored, change status or go (virtualmeeting's rows): rare, and
# only whether an event has recordings is cached under it.
RECORDINGS = "pages:gen:recordings"
# Moves on any save or delete of a booking, a seminar (its approval type), an enrolment (who trains where), a
# profile (who manages whom) or a person: under it each person's count of the requests they may decide is kept.
REQUESTS = "pages:gen:requests"
TIMEOUT = 24 * 3600  # what nobody asked for in a day is computed again
# Which course an event is in never changes: each process remembers it, so one cache round trip reads an event's
# value and all three of its tokens.
_course_of: dict[int, int] = {}
_course_of_seminar: dict[int, int] = {}


def _event_gen(event_id) -> str:
    return f"pages:gen:event:{event_id}"


def _course_gen(course_id) -> str:
    return f"pages:gen:course:{course_id}"


def _seminar_gen(seminar_id) -> str:
    return f"pages:gen:seminar:{seminar_id}"


def _gen_keys(event_id, course_id) -> list[str]:
    return [_event_gen(event_id), _course_gen(course_id), SITE]


class EventShared:
    """An event as every viewer sees it, with the tokens it was read under (`version`, for fragment keys)."""

    def __init__(self, *, event, trainers, tokens: tuple[str, ...], read: dict | None = None):
        self.event = event  # with seminar, course, seats_taken and sessions (rooms loaded): event_for_page's
        self.trainers = trainers
        self.tokens = tokens
        self.version = hashlib.blake2b("/".join(tokens).encode(), digest_size=8).hexdigest()
        # Entries read in the same round trip as the event (event_shared's `extra` keys), found or not.
        self._read = read or {}

    def _entry(self, key: str):
        return self._read[key] if key in self._read else cache.get(key)

    def attendees(self) -> dict:
        """The event's signups in groups (seminars.selectors.bookings.event_attendees), for its trainers."""
        from seminars.selectors.bookings import event_attendees

        key = f"pages:event:{self.event.pk}:attendees"
        stored = cache.get(key)
        if generations.entry_fresh(stored, self.tokens):
            return stored["value"]
        value = event_attendees(event=self.event)
        cache.set(key, generations.entry(value, self.tokens), timeout=TIMEOUT)
        return value

    def booking_of(self, user_id: int):
        """`user_id`'s booking on the event (None when they have none). Bookings move the event's token."""
        from seminars.models import Booking

        key = _booking_key(self.event.pk, user_id)
        stored = self._entry(key)
        if generations.entry_fresh(stored, self.tokens):
            return stored["value"]
        booking = Booking.objects.filter(event_id=self.event.pk, user_id=user_id).first()
        cache.set(key, generations.entry(booking, self.tokens), timeout=TIMEOUT)
        return booking

    def recordings(self, sessions) -> list:
        """The recordings of the event's `sessions` (seminars.selectors.recordings.event_recordings).

        Only whether there are any is cached (their passcodes stay encrypted in the database, out of the cache):
        an event without recordings, every event before its meetings end, asks the database nothing. Its tokens
        are the event's (its sessions and rooms) and RECORDINGS (any recording file stored or changed)."""
        from seminars.selectors.recordings import event_recordings

        key = f"pages:event:{self.event.pk}:recordings"
        tokens = (*self.tokens, *generations.tokens([RECORDINGS], self._read))
        stored = self._entry(key)
        if generations.entry_fresh(stored, tokens) and not stored["value"]:
            return []
        listed = event_recordings(sessions=sessions)
        if not generations.entry_fresh(stored, tokens):
            cache.set(key, generations.entry(bool(listed), tokens), timeout=TIMEOUT)
        return listed


def _booking_key(event_id, user_id) -> str:
    return f"pages:event:{event_id}:booking:{user_id}"


def event_shared(event_id: int, *, viewer_id: int | None = None) -> EventShared:
    """The event `event_id` (404 when there is none) from the cache when current, else from the database.

    The same round trip reads what the event page asks of it next: whether it has recordings and, with
    `viewer_id`, that person's booking (EventShared.recordings, .booking_of)."""
    from seminars.selectors.bookings import event_for_page
    from seminars.selectors.trainers import event_trainers

    key = f"pages:event:{event_id}"
    extra = [f"pages:event:{event_id}:recordings", RECORDINGS]
    if viewer_id is not None:
        extra.append(_booking_key(event_id, viewer_id))
    course_id = _course_of.get(event_id)
    found = cache.get_many([key, *extra, *_gen_keys(event_id, course_id)] if course_id else [key, *extra])
    read = {name: found.get(name) for name in extra}
    stored = found.get(key)
    if course_id is None and isinstance(stored, dict):
        course_id = stored.get("course_id")
        if course_id is not None:
            found.update(cache.get_many(_gen_keys(event_id, course_id)))
    if course_id is not None:
        tokens = generations.tokens(_gen_keys(event_id, course_id), found)
        if generations.entry_fresh(stored, tokens) and stored.get("course_id") == course_id:
            _course_of[event_id] = course_id
            event, trainers = stored["value"]
            return EventShared(event=event, trainers=trainers, tokens=tokens, read=read)
    # A miss: which course (ids of deleted rows can come back on SQLite), the tokens, then the rows.
    course_id = SeminarEvent.objects.filter(pk=event_id).values_list("seminar__course_id", flat=True).first()
    if course_id is None:
        raise Http404("No such event.")
    found = cache.get_many(_gen_keys(event_id, course_id))
    tokens = generations.tokens(_gen_keys(event_id, course_id), found)  # read before the rows
    event = event_for_page(event_id=event_id)
    trainers = event_trainers(event)
    cache.set(key, {**generations.entry((event, trainers), tokens), "course_id": course_id}, timeout=TIMEOUT)
    _course_of[event_id] = course_id
    # What was read with the stale event may be stale too (its tokens are checked against the new ones anyway).
    return EventShared(event=event, trainers=trainers, tokens=tokens, read=read)


def event_fragments(name: str, items, render_fresh) -> list:
    """Values made from events' shared data, one per item, from the cache when current.

    `items` are (key, event_id, course_id, obj), `key` naming everything else the value depends on (a session id,
    the zone, the language, the viewer's booking state). One cache round trip reads the values with their events'
    tokens. The missing and stale ones are made by `render_fresh(objs)`, which must read those objects' rows again
    (it runs after the tokens were read, so what it makes is never older than its tokens) and give, for each,
    (value, key): the key of what it read, under which the value is stored in one more round trip. The value goes
    into this response either way.
    """
    items = list(items)
    if not items:
        return []
    keys = [f"pages:{name}:{key}" for key, _event_id, _course_id, _obj in items]
    gen_keys = {gen for _key, event_id, course_id, _obj in items for gen in _gen_keys(event_id, course_id)}
    found = cache.get_many([*keys, *gen_keys])
    values, missing = [], []
    for index, (key, (_key, event_id, course_id, obj)) in enumerate(zip(keys, items, strict=True)):
        tokens = generations.tokens(_gen_keys(event_id, course_id), found)
        stored = found.get(key)
        if generations.entry_fresh(stored, tokens):
            values.append(stored["value"])
        else:
            values.append(None)
            missing.append((index, tokens, obj))
    if missing:
        made = render_fresh([obj for _index, _tokens, obj in missing])
        stored = {}
        for (index, tokens, _obj), (value, key) in zip(missing, made, strict=True):
            values[index] = value
            stored[f"pages:{name}:{key}"] = generations.entry(value, tokens)
        cache.set_many(stored, timeout=TIMEOUT)
    return values


def seminar_list(seminar_id: int, *, past: bool, page) -> SeminarList:
    """A page of the seminar `seminar_id`'s events (404 when there is no such seminar), from the cache when current:
    its tokens are the seminar's (any change to its events, their dates and seats), its course's and the site's, and
    it is kept only until the first of its upcoming events ends (then an event moves from one list to the other)."""
    from django.utils import timezone

    asked = hashlib.blake2b(str(page).encode(), digest_size=8).hexdigest()
    key = f"pages:seminar:{seminar_id}:{int(past)}:{asked}"
    course_id = _course_of_seminar.get(seminar_id)
    gens = [_seminar_gen(seminar_id), _course_gen(course_id), SITE] if course_id else []
    found = cache.get_many([key, *gens])
    stored = found.get(key)
    now = timezone.now()
    if course_id and generations.entry_fresh(stored, generations.tokens(gens, found)):
        value = stored["value"]
        if value["until"] is None or now < value["until"]:
            return value["list"]
    course_id = Seminar.objects.filter(pk=seminar_id).values_list("course_id", flat=True).first()
    if course_id is None:
        raise Http404("No such seminar.")
    _course_of_seminar[seminar_id] = course_id
    gens = [_seminar_gen(seminar_id), _course_gen(course_id), SITE]
    tokens = generations.tokens(gens, cache.get_many(gens))  # read before the rows
    listed, until = seminar_events_page(seminar_id=seminar_id, past=past, page=page, now=now)
    cache.set(key, generations.entry({"list": listed, "until": until}, tokens), timeout=TIMEOUT)
    return listed


def decidable_count(user, count) -> int:
    """`user`'s number of requests they may decide (`count()` computes it: seminars.selectors.approvals), from the
    cache when no booking, seminar, enrolment, profile or person changed since. Kept apart for site admins, who
    may decide every request: becoming one (or not) gives another key."""
    from lms.permissions import is_site_admin

    key = f"pages:requests:{user.pk}:{int(is_site_admin(user))}"
    found = cache.get_many([key, REQUESTS])
    tokens = generations.tokens([REQUESTS], found)  # read before the rows
    stored = found.get(key)
    if generations.entry_fresh(stored, tokens):
        return stored["value"]
    value = count()
    cache.set(key, generations.entry(value, tokens), timeout=TIMEOUT)
    return value


# ---- What moves the tokens ----------------------------------------------------------------------------------


def events_changed(event_ids) -> None:
    generations.changed(*(_event_gen(event_id) for event_id in set(event_ids)))


def reset() -> None:
    """Every cached event out of date at once (test isolation, a cache restore)."""
    _course_of.clear()
    _seminar_of.clear()
    _course_of_seminar.clear()
    generations.bump(SITE)


@receiver(post_save, sender=SeminarEvent, dispatch_uid="seminars.page_cache.event_saved")
@receiver(post_delete, sender=SeminarEvent, dispatch_uid="seminars.page_cache.event_deleted")
def _event_row_changed(sender, instance, **kwargs):
    generations.changed(_event_gen(instance.pk), _seminar_gen(instance.seminar_id))


@receiver(post_save, sender=EventTrainer, dispatch_uid="seminars.page_cache.trainer_saved")
@receiver(post_delete, sender=EventTrainer, dispatch_uid="seminars.page_cache.trainer_deleted")
def _event_part_changed(sender, instance, **kwargs):
    events_changed([instance.event_id])


@receiver(post_save, sender=Session, dispatch_uid="seminars.page_cache.session_saved")
@receiver(post_delete, sender=Session, dispatch_uid="seminars.page_cache.session_deleted")
@receiver(post_save, sender=Booking, dispatch_uid="seminars.page_cache.booking_saved")
@receiver(post_delete, sender=Booking, dispatch_uid="seminars.page_cache.booking_deleted")
def _event_list_part_changed(sender, instance, **kwargs):
    """Sessions (an event's dates) and bookings (its seats) also change its seminar's list of events."""
    seminar_id = _seminar_of(instance.event_id)
    generations.changed(_event_gen(instance.event_id), *([_seminar_gen(seminar_id)] if seminar_id else []))


class Remembered:
    """What never changes about a row (the seminar of an event, the course of a seminar), read once per process:
    `read(pk)` gives it, or None when the row is gone (then nothing is remembered). `forget(pk)` where an id may
    come back (SQLite reuses the ids of deleted rows), `clear()` for test isolation."""

    def __init__(self, read):
        self._read = read
        self._known: dict = {}

    def __call__(self, pk):
        if pk not in self._known:
            value = self._read(pk)
            if value is None:
                return None
            self._known[pk] = value
        return self._known[pk]

    def forget(self, pk) -> None:
        self._known.pop(pk, None)

    def clear(self) -> None:
        self._known.clear()


# The seminar of an event; None when the event is gone: its own delete moves its seminar's token.
_seminar_of = Remembered(
    lambda event_id: SeminarEvent.objects.filter(pk=event_id).values_list("seminar_id", flat=True).first()
)


@receiver(post_save, sender=Room, dispatch_uid="seminars.page_cache.room_saved")
@receiver(pre_delete, sender=Room, dispatch_uid="seminars.page_cache.room_deleted")
def _room_changed(sender, instance, **kwargs):
    # Before a delete: its sessions are then moved to "no room" by an UPDATE, which sends no signal.
    events_changed(Session.objects.filter(room_id=instance.pk).values_list("event_id", flat=True).distinct())


@receiver(post_save, sender=Course, dispatch_uid="seminars.page_cache.course_saved")
@receiver(post_delete, sender=Course, dispatch_uid="seminars.page_cache.course_deleted")
def _course_changed(sender, instance, **kwargs):
    generations.changed(_course_gen(instance.pk))


@receiver(post_save, sender=Seminar, dispatch_uid="seminars.page_cache.seminar_saved")
@receiver(post_delete, sender=Seminar, dispatch_uid="seminars.page_cache.seminar_deleted")
@receiver(post_save, sender=Enrolment, dispatch_uid="seminars.page_cache.enrolment_saved")
@receiver(post_delete, sender=Enrolment, dispatch_uid="seminars.page_cache.enrolment_deleted")
def _course_part_changed(sender, instance, **kwargs):
    generations.changed(_course_gen(instance.course_id))


# The fields of a person that events show (trainers and attendees by name and email; inactive trainers are not
# listed). A login saves only last_login, which shows nowhere.
_PERSON_FIELDS = {"first_name", "last_name", "username", "email", "is_active"}


@receiver(post_save, sender=get_user_model(), dispatch_uid="seminars.page_cache.person_saved")
def _person_saved(sender, instance, created, update_fields=None, **kwargs):
    if not created and (update_fields is None or _PERSON_FIELDS & set(update_fields)):
        generations.changed(SITE)


@receiver(post_delete, sender=get_user_model(), dispatch_uid="seminars.page_cache.person_deleted")
def _person_deleted(sender, instance, **kwargs):
    generations.changed(SITE)


@receiver(post_save, sender=MeetingRecording, dispatch_uid="seminars.page_cache.recording_saved")
@receiver(post_delete, sender=MeetingRecording, dispatch_uid="seminars.page_cache.recording_deleted")
def _recording_changed(sender, instance, **kwargs):
    generations.changed(RECORDINGS)


@receiver(post_save, sender=Booking, dispatch_uid="seminars.page_cache.requests_booking_saved")
@receiver(post_delete, sender=Booking, dispatch_uid="seminars.page_cache.requests_booking_deleted")
@receiver(post_save, sender=Seminar, dispatch_uid="seminars.page_cache.requests_seminar_saved")
@receiver(post_delete, sender=Seminar, dispatch_uid="seminars.page_cache.requests_seminar_deleted")
@receiver(post_save, sender=Enrolment, dispatch_uid="seminars.page_cache.requests_enrolment_saved")
@receiver(post_delete, sender=Enrolment, dispatch_uid="seminars.page_cache.requests_enrolment_deleted")
@receiver(post_save, sender=Profile, dispatch_uid="seminars.page_cache.requests_profile_saved")
@receiver(post_delete, sender=Profile, dispatch_uid="seminars.page_cache.requests_profile_deleted")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="seminars.page_cache.requests_person_deleted")
def _requests_changed(sender, **kwargs):
    # A person deleted also empties their managed learners' manager with an UPDATE (SET_NULL): no profile signal.
    generations.changed(REQUESTS)
