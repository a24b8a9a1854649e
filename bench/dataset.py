"""The page benchmark's data: one course, one seminar, `events` events of two sessions, ten signups each.

At the default size (500 events) that is 1,000 sessions and 5,000 bookings, the
size the issue names. Sessions and signups per event can be set too, so that the
query counts are compared between datasets that differ in every direction a
page could loop over (events, sessions, bookings). Rows are written with bulk_create (a few seconds), so no
service, signal or email runs: the data is what the pages read, not a test of
the write path.

Shape, at `events` = E (with the default two sessions and ten signups per event):
- 5 trainers (one editing trainer) and E learners enrolled in the course;
- `bench-learner` is booked on every fifth event (E/5 events, 2E/5 sessions on
  "My sessions"); the other nine or ten seats of each event go round-robin to the
  other learners; a few signups are waitlisted or cancelled;
- sessions are all upcoming (one every 8 hours from tomorrow, the next ones a week
  apart), in four time zones, 80% in one of 20 site rooms (two with a
  custom virtual link), every tenth event (the measured one too) in an ad-hoc Zoom
  room whose meetings exist and are available;
- every booking has its state history row; the two measured users have a
  profile zone and a few notifications (the header's bell reads them).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from seminars.models import (
    Booking,
    BookingStateChange,
    Course,
    Enrolment,
    Notification,
    Profile,
    Room,
    Seminar,
    SeminarEvent,
    Session,
)
from virtualmeeting.models import VirtualMeeting

PASSWORD = "bench-password-123"
LEARNER = "bench-learner"
TRAINER = "bench-trainer"
ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]
SITE_ROOMS = 20


@dataclass
class Dataset:
    """What the benchmark needs to find again: ids of the pages and the two measured users."""

    events: int
    sessions: int
    bookings: int
    seminar_id: int
    event_id: int
    course_id: int
    learner: str
    trainer: str
    learner_booked_sessions: int
    sessions_per_event: int
    signups_per_event: int


def dataset_load(*, events: int, sessions_per_event: int = 2, signups_per_event: int = 10) -> Dataset:
    """Write the dataset into an empty database (one transaction)."""
    if events < 2 * signups_per_event or signups_per_event < 3 or sessions_per_event < 1:
        raise ValueError("Needs at least one session and three signups per event, and twice as many events as signups.")
    with transaction.atomic():
        return _load(events, sessions_per_event, signups_per_event)


def _load(events: int, sessions_per_event: int, signups_per_event: int) -> Dataset:
    users = _users(learners=events)
    learner, trainer, editor = users["learner"], users["trainer"], users["editor"]
    course = Course.objects.create(
        name=f"Benchmark course ({events * sessions_per_event} sessions)", short_name="BENCH"
    )
    Enrolment.objects.bulk_create(
        [Enrolment(course=course, user=u, role=Enrolment.Role.LEARNER) for u in [learner, *users["others"]]]
        + [Enrolment(course=course, user=editor, role=Enrolment.Role.EDITING_TRAINER)]
        + [Enrolment(course=course, user=u, role=Enrolment.Role.TRAINER) for u in [trainer, *users["trainers"]]]
    )
    seminar = Seminar.objects.create(
        course=course, name="Benchmark seminar", description="Seminar for page benchmarks."
    )
    event_rows = SeminarEvent.objects.bulk_create(
        [
            SeminarEvent(
                seminar=seminar,
                name=f"Benchmark event {i + 1}",
                capacity=12,
                waitlist_enabled=i % 7 == 0,
                created_by=editor,
            )
            for i in range(events)
        ]
    )
    sessions = _sessions(event_rows, editor, sessions_per_event)
    bookings = _bookings(event_rows, learner, users["others"], signups_per_event)
    _extras(learner, trainer, course)
    return Dataset(
        events=events,
        sessions=len(sessions),
        bookings=len(bookings),
        seminar_id=seminar.pk,
        event_id=event_rows[0].pk,
        course_id=course.pk,
        learner=LEARNER,
        trainer=TRAINER,
        learner_booked_sessions=sum(1 for b in bookings if b.user_id == learner.pk) * sessions_per_event,
        sessions_per_event=sessions_per_event,
        signups_per_event=signups_per_event,
    )


def _users(*, learners: int) -> dict:
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: hashing per user would take minutes

    def user(username, first, last):
        return User(
            username=username, first_name=first, last_name=last, email=f"{username}@example.com", password=password
        )

    rows = [user(LEARNER, "Bella", "Bench"), user(TRAINER, "Tobias", "Bench"), user("bench-editor", "Edith", "Bench")]
    rows += [user(f"bench-trainer-{i}", "Trainer", str(i)) for i in range(2, 6)]
    rows += [user(f"bench-learner-{i}", "Learner", str(i)) for i in range(2, learners + 1)]
    created = User.objects.bulk_create(rows)
    return {
        "learner": created[0],
        "trainer": created[1],
        "editor": created[2],
        "trainers": created[3:7],
        "others": created[7:],
    }


def _sessions(event_rows, editor, per_event) -> list[Session]:
    rooms = Room.objects.bulk_create(
        [
            Room(
                name=f"Site room {i + 1:02d}",
                capacity=30,
                allow_conflicts=True,
                virtual_kind=Room.CUSTOM_LINK if i < 2 else "",
                virtual_url=f"https://meet.example.com/room-{i + 1}" if i < 2 else "",
            )
            for i in range(SITE_ROOMS)
        ]
    )
    zoom_rooms = {
        event.pk: room
        for event, room in zip(
            event_rows[::10],
            Room.objects.bulk_create(
                [
                    Room(
                        name=f"Zoom room of {event.name}",
                        capacity=50,
                        event=event,
                        virtual_kind="zoom",
                        created_by=editor,
                    )
                    for event in event_rows[::10]
                ]
            ),
            strict=True,
        )
    }
    tomorrow = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    rows = []
    for i, event in enumerate(event_rows):
        for k in range(per_event):
            start = tomorrow + timedelta(hours=8 * i, days=7 * k)
            if event.pk in zoom_rooms:
                room = zoom_rooms[event.pk]
            else:
                room = rooms[(per_event * i + k) % SITE_ROOMS] if (per_event * i + k) % 5 else None
            rows.append(
                Session(event=event, start=start, finish=start + timedelta(hours=2), time_zone=ZONES[i % 4], room=room)
            )
    sessions = Session.objects.bulk_create(rows)
    VirtualMeeting.objects.bulk_create(
        [
            VirtualMeeting(
                reference=f"seminars.event:{s.event_id}:session:{s.pk}:room:{s.room_id}",
                provider="zoom",
                owner=editor,
                remote_owner=editor,
                topic=f"Benchmark seminar: session {s.pk}",
                start=s.start,
                finish=s.finish,
                time_zone=s.time_zone,
                remote_id=str(80000000000 + s.pk),
                join_url=f"https://zoom.example.com/j/{80000000000 + s.pk}",
                host_email="bench-editor@example.com",
                status=VirtualMeeting.Status.AVAILABLE,
                synced_version=1,
            )
            for s in sessions
            if s.room_id is not None and s.room_id in {r.pk for r in zoom_rooms.values()}
        ]
    )
    return sessions


def _bookings(event_rows, learner, others, per_event) -> list[Booking]:
    now = timezone.now()
    rows = []
    for i, event in enumerate(event_rows):
        takers = [learner] if i % 5 == 0 else []
        takers += [others[(i * per_event + j) % len(others)] for j in range(per_event)]
        for j, user in enumerate(takers[:per_event]):
            state = Booking.State.BOOKED
            if j == per_event - 1 and event.waitlist_enabled:
                state = Booking.State.WAITLISTED
            elif j == per_event - 2 and i % 11 == 0:
                state = Booking.State.USER_CANCELLED
            rows.append(Booking(event=event, user=user, state=state, created_at=now - timedelta(minutes=j)))
    bookings = Booking.objects.bulk_create(rows)
    BookingStateChange.objects.bulk_create(
        [BookingStateChange(booking=b, state=b.state, changed_by=b.user, changed_at=b.created_at) for b in bookings]
    )
    return bookings


def _extras(learner, trainer, course):
    Profile.objects.bulk_create(
        [Profile(user=learner, time_zone="Europe/Berlin"), Profile(user=trainer, time_zone="America/Chicago")]
    )
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                subject=f"Benchmark notification {n}",
                body="A notification for the header's bell.",
                url=course.get_absolute_url(),
                created_at=now - timedelta(hours=n),
                read_at=now if n % 2 else None,
            )
            for user in (learner, trainer)
            for n in range(10)
        ]
    )


@dataclass
class LiveEvent:
    """An event whose one session starts in a few minutes (the join window is open), in a Zoom room whose
    meeting requires registration, with `learners` booked learners, each registered (a personal join link)."""

    event_id: int
    session_id: int
    learners: list[str]  # usernames, bench-learner first
    join_prefix: str  # every join link (shared and personal) starts with it


LIVE_JOIN_PREFIX = "https://zoom.example.com/w/"


def live_event_load(*, learners: int) -> LiveEvent:
    """Add the live event to a loaded dataset (one transaction): bench-learner and `learners - 1` others
    (existing benchmark learners first, new ones after), each booked and registered for its meeting."""
    with transaction.atomic():
        return _live(learners)


def _live(count: int) -> LiveEvent:
    from virtualmeeting.models import MeetingRegistrant

    User = get_user_model()
    course = Course.objects.get(short_name="BENCH")
    editor = User.objects.get(username="bench-editor")
    people = list(User.objects.filter(username__startswith=LEARNER).order_by("pk")[:count])
    missing = count - len(people)
    if missing > 0:
        password = make_password(PASSWORD)
        extra = User.objects.bulk_create(
            [
                User(
                    username=f"bench-live-{i}",
                    first_name="Live",
                    last_name=str(i),
                    email=f"bench-live-{i}@example.com",
                    password=password,
                )
                for i in range(1, missing + 1)
            ]
        )
        Enrolment.objects.bulk_create([Enrolment(course=course, user=u, role=Enrolment.Role.LEARNER) for u in extra])
        people += extra
    seminar = Seminar.objects.create(course=course, name="Live seminar", description="Starts in a few minutes.")
    event = SeminarEvent.objects.create(seminar=seminar, name="Live event", capacity=count, created_by=editor)
    room = Room.objects.create(
        name="Zoom room of Live event", capacity=count, event=event, virtual_kind="zoom", created_by=editor
    )
    start = timezone.now() + timedelta(minutes=5)
    session = Session.objects.create(
        event=event, start=start, finish=start + timedelta(hours=1), time_zone="Europe/London", room=room
    )
    meeting = VirtualMeeting.objects.create(
        reference=f"seminars.event:{event.pk}:session:{session.pk}:room:{room.pk}",
        provider="zoom",
        owner=editor,
        remote_owner=editor,
        topic="Live seminar: Live event",
        start=session.start,
        finish=session.finish,
        time_zone=session.time_zone,
        remote_id="89999999999",
        join_url=f"{LIVE_JOIN_PREFIX}89999999999",
        host_email="bench-editor@example.com",
        registration=True,
        personal_links=True,
        status=VirtualMeeting.Status.AVAILABLE,
        synced_version=1,
    )
    bookings = Booking.objects.bulk_create([Booking(event=event, user=u, state=Booking.State.BOOKED) for u in people])
    BookingStateChange.objects.bulk_create(
        [BookingStateChange(booking=b, state=b.state, changed_by=b.user, changed_at=start) for b in bookings]
    )
    MeetingRegistrant.objects.bulk_create(
        [
            MeetingRegistrant(
                meeting=meeting,
                key=f"booking:{b.pk}",
                user=b.user,
                first_name=b.user.first_name,
                last_name=b.user.last_name,
                email=f"r{b.pk}@registrants.invalid",
                remote_id=f"reg{b.pk}",
                join_url=f"{LIVE_JOIN_PREFIX}89999999999?tk=personal-{b.pk}",
                registered_at=start,
                status=MeetingRegistrant.Status.REGISTERED,
            )
            for b in bookings
        ]
    )
    return LiveEvent(
        event_id=event.pk, session_id=session.pk, learners=[u.username for u in people], join_prefix=LIVE_JOIN_PREFIX
    )
