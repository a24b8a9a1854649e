"""Convergence under faults: do the Zoom (and Teams) meetings end up exactly as the seminar data says?

    .venv/bin/python bench/convergence.py                       # 200 sessions, 5 trainers (issue 5)
    .venv/bin/python bench/convergence.py --sessions 1000 --trainers 10 --workers 4
    .venv/bin/python bench/convergence.py --handover 50             # and a handover in the site's account (issue 11)
    .venv/bin/python bench/convergence.py --help

One run, all on 127.0.0.1 and bounded by --settle-timeout:

1. a fresh PostgreSQL database of its own (default `lms_conv`, dropped and created),
   a private redis-server (default port 6390: broker and cache of the workers), the
   Zoom simulator as a process, and `--workers` Celery worker processes
   (`bench/sync_settings.py`: the product's settings with shorter backoff and claim);
2. the trainers connect Zoom through the product's OAuth views and the simulator's
   sign-in and consent pages; learners are enrolled and booked;
3. the simulator starts injecting faults on every route (20% server errors: 500 and
   502, 10% dropped answers: the request is applied but the connection closes, 1%
   timeouts: no answer for longer than the product's 15 s read timeout, 4% 429s);
4. each trainer's events and sessions (ad-hoc rooms with "Zoom Meeting") are created
   with `event_save`, as the event editor does;
5. a third of the sessions are changed in two waves through the services: events
   cancelled (`event_cancel`), sessions removed, moved and edited (other duration and
   zone) with `event_save`; some moved twice. Between the waves a worker is killed
   with SIGKILL and a new one started; after them Redis is restarted (every queued
   message is lost);
6. the faults stop; `meeting_sweep` runs every 2 s (as Celery beat would) until no
   meeting is pending or --settle-timeout passes;
7. the simulator's admin API lists every meeting of the trainers' Zoom users (and of the
   site account's hosts) and the script checks: each session that should have a meeting
   has exactly one, with the right start_time, duration, zone, topic and host; no other
   meeting exists (duplicates have the topic and start of a session that should have a
   meeting, orphans are meetings of removed or cancelled sessions);
   no session or booking was lost.

With `--handover N` (issue 11) the site's Zoom account takes part too: the simulator's
Server-to-Server app (seeded; `virtualmeeting_zoom_configure --simulator` stores its
credentials) with two active licensed users of account A, host A and host B. After the
trainers' events, the site switches new rooms to the site account (`--hosting account`)
and host A's LMS user makes N sessions, each in its own ad-hoc room, hosted by host A.
Before the first wave of changes, once a third of the meetings to hand exist
(`--handover-after`) and while the rest are still being made (some not started, some with
a create in flight or its answer lost), a site admin hands all of host A's rooms to host B
with `rooms_hand_over`, and a few rooms of the first trainer (made in their own connection)
to host A; the waves of changes, the worker kill, the Redis restart and the faults then
follow as above while the meetings move. Step 7 then also checks each handed session:
exactly one meeting, under its new host, the one its row records; none left in its old
host's account (host A, or the trainer's own Zoom user); nothing failed or pending; and
the handover's progress (handover_progress) says moved.

With `--teams-sessions N` (issue 12) Microsoft Teams takes part too: the Microsoft simulator
(identity platform and Graph) as a process, Teams configured for it
(`virtualmeeting_teams_configure --simulator`), one more trainer connected to it through the
product's OAuth views, and N sessions of theirs in ad-hoc Teams rooms, created with the others.
Their sessions take part in the waves of changes, and Graph's meeting calls fail all through the
faults in Graph's own ways (500, 503 and 429 with Retry-After, 504, answers lost after the call
was applied). Step 7 then also checks the Teams rooms: each wanted session's meeting exactly
once in the simulator, at its time; none failed; no other meeting alive.

Prints the counts, writes them as JSON (--json), exits 0 when converged, 1 when not.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    ROOT,
    MicrosoftSimulator,
    RedisServer,
    Simulator,
    Workers,
    configure_environment,
    connect_teams_trainer,
    connect_trainer,
    course_with_trainers,
    database_drop,
    database_recreate,
    outcome_counts,
    prepare_django,
    redirect_uri,
    rss_mb,
    sim_user_email,
    wait_until,
)

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin", "America/Sao_Paulo"]
SESSIONS_PER_EVENT = 5
FAULTS = {"error_500": 0.10, "error_502": 0.10, "drop": 0.10, "timeout": 0.01, "rate_429": 0.04}
# The Microsoft simulator's faults (Graph's own shapes: 503 and 429 with Retry-After, 504, answers lost).
TEAMS_FAULTS = {"error_500": 0.08, "error_503": 0.08, "error_504": 0.06, "rate_429": 0.05, "drop": 0.08}
TEAMS_FAULT_STATUSES = ("500", "503", "504", "429", "drop", "close", "hang")
# Longer than the product's 15 s read timeout (virtualmeeting_zoom.client.TIMEOUT): a real client-side timeout.
FAULT_TIMEOUT_SECONDS = 16
LEARNERS = 10
MAX_SESSIONS_PER_TRAINER = 40
# The site account's hosts (issue 11): users of the simulator's account A, added through its admin API.
HOST_A = "host-a@zoomsim.test"
HOST_B = "host-b@zoomsim.test"
# Each handed meeting is made again under its new host (one create each, more under faults): one host's 100 a day.
MAX_HANDOVER = 60
# Rooms of the first trainer, made in their own connection, handed to host A at the same time.
PERSONAL_HANDED = 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--trainers", type=int, default=5)
    parser.add_argument(
        "--teams-sessions",
        type=int,
        default=0,
        help="N more sessions in Microsoft Teams rooms of one more trainer (the Microsoft simulator, under faults too)",
    )
    parser.add_argument("--workers", type=int, default=3, help="Celery worker processes (solo pool each)")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/lms_conv",
        help="a database of this run's own: it is dropped and created",
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--redis-port", type=int, default=6390, help="port of the private redis-server")
    parser.add_argument("--settle-timeout", type=float, default=240, help="seconds to wait for quiet after faults")
    parser.add_argument(
        "--fault-seconds",
        type=float,
        default=20,
        help="seconds of faults after the last change (before the faults stop)",
    )
    parser.add_argument("--seed", type=int, default=5, help="seed of the changes and of the simulator's faults")
    parser.add_argument(
        "--handover",
        type=int,
        default=0,
        metavar="N",
        help="N sessions in rooms of the site's Zoom account hosted by host A, handed to host B mid-run (0: none)",
    )
    parser.add_argument(
        "--handover-after",
        type=float,
        default=1 / 3,
        metavar="SHARE",
        help="hand over once this share of the meetings to hand exist (1: all of them, none in flight)",
    )
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument("--workdir", type=Path, help="logs and the simulator's file (default var/bench/convergence-*)")
    args = parser.parse_args(argv)
    if args.sessions > MAX_SESSIONS_PER_TRAINER * args.trainers:
        parser.error(
            f"at most {MAX_SESSIONS_PER_TRAINER} sessions per trainer: with the changes and the calls that "
            "fail, more would meet Zoom's 100 creates and updates per user and day, and the rest would "
            "rightly wait for midnight"
        )
    if not 0 <= args.handover <= MAX_HANDOVER:
        parser.error(
            f"--handover takes 0 to {MAX_HANDOVER}: every handed meeting is made again under host B, "
            "within its 100 creates and updates a day"
        )
    return args


STARTED = time.monotonic()


def say(message: str) -> None:
    """A step of the run, with the seconds since the script started (to see where a run spends its time)."""
    print(f"[{time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


# --- the seminar side ------------------------------------------------------------------------------------------
def room_new(name: str, kind: str = "zoom") -> dict:
    return {"mode": "new", "name": name, "capacity": 30, "description": "", "virtual_kind": kind, "virtual_url": ""}


def event_data(*, name: str, details: str, rows: list[dict]) -> dict:
    return {
        "name": name,
        "details": details,
        "capacity": 30,
        "waitlist_enabled": False,
        "cancellation_policy": "cutoff",
        "cancellation_cutoff_hours": 24,
        "sessions": rows,
    }


def plan_events(sessions: int, trainers: int) -> list[list[int]]:
    """Sessions per event, per trainer: `sessions` spread evenly, at most SESSIONS_PER_EVENT per event."""
    plan = []
    for index in range(trainers):
        mine = sessions // trainers + (1 if index < sessions % trainers else 0)
        sizes = [SESSIONS_PER_EVENT] * (mine // SESSIONS_PER_EVENT)
        if mine % SESSIONS_PER_EVENT:
            sizes.append(mine % SESSIONS_PER_EVENT)
        plan.append(sizes)
    return plan


def event_save_accepted(*, attempts: int = 10, **kwargs):
    """event_save, saved again (as the editor would) while it is refused because Zoom could not be asked about a
    room's host in the site account (a fault on GET /users/{email}); any other refusal is raised at once."""
    from django.core.exceptions import ValidationError

    from seminars.services.events import event_save

    for attempt in range(1, attempts + 1):
        try:
            return event_save(**kwargs)
        except ValidationError as exc:
            if attempt == attempts or "could not be asked" not in " ".join(exc.messages):
                raise
            time.sleep(0.5)


def create_events(
    seminar, trainers, plan, base: datetime, rng: random.Random, *, first_slot: int = 0, kind: str = "zoom"
) -> list:
    """Every trainer's events, each session in its own ad-hoc room of the provider `kind` ("zoom", "teams"), two
    days apart (from `first_slot`)."""
    events = []
    slot = first_slot
    for trainer, sizes in zip(trainers, plan, strict=True):
        for number, size in enumerate(sizes, start=1):
            rows = []
            for position in range(size):
                start = base + timedelta(days=2 * slot, hours=rng.randrange(0, 10))
                slot += 1
                rows.append(
                    {
                        "id": None,
                        "start": start,
                        "finish": start + timedelta(minutes=60),
                        "time_zone": rng.choice(ZONES),
                        "room": room_new(f"{trainer.username} room {position}", kind),
                    }
                )
            events.append(
                event_save_accepted(
                    event_or_none=None,
                    seminar=seminar,
                    actor=trainer,
                    data=event_data(
                        name=f"{trainer.username} event {number}",
                        details=f"Event {number} of {trainer.get_full_name()}.",
                        rows=rows,
                    ),
                )
            )
    return events


def book_learners(seminar, events, count: int) -> int:
    from django.contrib.auth import get_user_model

    from seminars.models import Enrolment
    from seminars.services.bookings import booking_create
    from seminars.services.courses import enrolment_create

    User = get_user_model()
    admin = User.objects.get(username="bench-admin")
    booked = 0
    for index in range(1, count + 1):
        learner = User.objects.create_user(f"learner{index:02d}", f"learner{index:02d}@lms.test", "bench-password-1")
        enrolment_create(course=seminar.course, user=learner, role=Enrolment.Role.LEARNER, actor=admin)
        for event in events[index % 3 :: 3]:
            booking_create(event=event, user=learner, actor=learner)
            booked += 1
    return booked


def rows_of(event) -> list[dict]:
    return [
        {
            "id": s.pk,
            "start": s.start,
            "finish": s.finish,
            "time_zone": s.time_zone,
            "room": {"mode": "adhoc", "id": s.room_id},
        }
        for s in event.sessions.order_by("start", "pk")
    ]


def plan_changes(events, rng: random.Random) -> tuple[list[tuple[str, int, int | None]], int]:
    """A third of the sessions: (kind, event id, session id), whole events for "cancel"; and how many sessions."""
    total = sum(event.sessions.count() for event in events)
    target = total // 3
    changes, touched = [], 0
    shuffled = list(events)
    rng.shuffle(shuffled)
    cancelled = shuffled[: max(1, len(events) // 10)]
    for event in cancelled:
        changes.append(("cancel", event.pk, None))
        touched += event.sessions.count()
    kinds = ["move", "edit", "remove"]
    candidates = [(event.pk, s.pk) for event in shuffled[len(cancelled) :] for s in event.sessions.all()]
    rng.shuffle(candidates)
    for position, (event_id, session_id) in enumerate(candidates[: max(0, target - touched)]):
        changes.append((kinds[position % 3], event_id, session_id))
        touched += 1
    return changes, touched


def apply_changes(changes, rng: random.Random) -> dict:
    """Apply the changes through the services, one event_save per event (as the editor saves a whole event)."""
    from seminars.models import SeminarEvent
    from seminars.services.events import event_cancel, event_save

    done = {"cancel": 0, "move": 0, "edit": 0, "remove": 0}
    by_event: dict[int, list] = {}
    for kind, event_id, session_id in changes:
        by_event.setdefault(event_id, []).append((kind, session_id))
    for event_id, items in by_event.items():
        event = SeminarEvent.objects.select_related("seminar").get(pk=event_id)
        if event.cancelled:
            continue
        trainer = event.created_by
        if any(kind == "cancel" for kind, _ in items):
            event_cancel(event=event, actor=trainer)
            done["cancel"] += 1
            continue
        rows = rows_of(event)
        by_id = {row["id"]: row for row in rows}
        for kind, session_id in items:
            row = by_id.get(session_id)
            if row is None:
                continue
            if kind in ("move", "move again"):
                # A day later, then two hours more (sessions are two days apart: neither overlaps the next).
                shift = timedelta(days=1, minutes=30) if kind == "move" else timedelta(hours=2)
                row["start"] += shift
                row["finish"] += shift
                kind = "move"
            elif kind == "edit":  # longer, in another zone
                row["finish"] += timedelta(minutes=rng.choice([15, 30, 45]))
                row["time_zone"] = rng.choice([zone for zone in ZONES if zone != row["time_zone"]])
            elif kind == "remove":
                rows.remove(row)
                del by_id[session_id]
            done[kind] += 1
        event_save(
            event_or_none=event,
            seminar=event.seminar,
            actor=trainer,
            data=event_data(name=event.name, details=event.details, rows=rows),
        )
    return done


# --- the site's Zoom account and the handover (issue 11) ----------------------------------------------------------
def teams_trainer_add(seminar):
    """One more editing trainer of the course, whose rooms are Microsoft Teams rooms."""
    from django.contrib.auth import get_user_model

    from seminars.models import Enrolment
    from seminars.services.courses import enrolment_create

    User = get_user_model()
    admin = User.objects.get(username="bench-admin")
    trainer = User.objects.create_user(
        "teams-trainer", "teams-trainer@lms.test", "bench-password-1", first_name="Teams", last_name="Trainer"
    )
    enrolment_create(course=seminar.course, user=trainer, role=Enrolment.Role.EDITING_TRAINER, actor=admin)
    return trainer


def account_hosts_add(admin) -> None:
    """Host A and host B: active licensed users of the simulator's account A, whose Server-to-Server app
    (`zoomsim-s2s-client-id`) `virtualmeeting_zoom_configure --simulator` has stored."""
    admin.add_users(
        users=[
            {"email": HOST_A, "first_name": "Hana", "last_name": "Host A", "type": 2, "timezone": "Europe/London"},
            {"email": HOST_B, "first_name": "Hugo", "last_name": "Host B", "type": 2, "timezone": "Europe/London"},
        ]
    )


def account_people(seminar) -> tuple:
    """The LMS users whose emails are host A's and host B's, editing trainers of the course: host A's makes the
    account rooms (the room dialog's default host is the maker's own user of the account); host B's becomes the
    rooms' owner in the LMS when they are handed to host B (and is told)."""
    from django.contrib.auth import get_user_model

    from seminars.models import Enrolment
    from seminars.services.courses import enrolment_create

    User = get_user_model()
    admin = User.objects.get(username="bench-admin")
    people = []
    for username, email, last in (("host-a", HOST_A, "Host A"), ("host-b", HOST_B, "Host B")):
        user = User.objects.create_user(username, email, "bench-password-1", first_name="Zoom", last_name=last)
        enrolment_create(course=seminar.course, user=user, role=Enrolment.Role.EDITING_TRAINER, actor=admin)
        people.append(user)
    return tuple(people)


def site_account_for_new_rooms() -> None:
    """New rooms are made in the site's account from now on (rooms made before keep their owner's connection)."""
    from django.core.management import call_command

    call_command("virtualmeeting_zoom_configure", hosting="account", stdout=io.StringIO())


def hand_over(*, rooms, to_host: str, reason: str, from_owner=None, attempts: int = 10):
    """`rooms_hand_over` by the site admin, clicked again while Zoom could not be asked about the new host (a
    fault on GET /users/{id}); returns (the RoomHandover, the attempts it took)."""
    from django.contrib.auth import get_user_model

    from seminars.services.handovers import HandoverError, rooms_hand_over

    admin = get_user_model().objects.get(username="bench-admin")
    for attempt in range(1, attempts + 1):
        try:
            handover = rooms_hand_over(by=admin, rooms=rooms, to_host=to_host, reason=reason, from_owner=from_owner)
        except HandoverError as exc:
            if attempt == attempts or "could not be asked" not in str(exc):
                raise
            time.sleep(0.5)
        else:
            return handover, attempt
    raise AssertionError("unreachable")


def personal_rooms_to_hand(events, trainer, changes, count: int) -> list:
    """`count` rooms of `trainer`'s events that no change touches (made in the trainer's own connection)."""
    from seminars.models import Room

    touched = {event_id for _, event_id, _ in changes}
    mine = [event.pk for event in events if event.created_by_id == trainer.pk and event.pk not in touched]
    return list(Room.objects.filter(event_id__in=mine).order_by("pk")[:count])


def hand_over_mid_run(args, account_events, events, trainer, changes) -> list[dict]:
    """Once `args.handover_after` of the meetings to hand exist (the rest still being made: some not started, some
    with a create in flight or its answer lost), hand all of host A's rooms to host B, and a few of `trainer`'s
    rooms (made in their own connection) to host A. Returns what was handed, for the JSON."""
    from django.db.models import Count

    from seminars.meetings import meeting_reference
    from seminars.models import Room, Session
    from virtualmeeting.models import VirtualMeeting

    rooms = list(Room.objects.filter(event__in=account_events).order_by("pk"))
    personal = personal_rooms_to_hand(events, trainer, changes, PERSONAL_HANDED)
    sessions = Session.objects.filter(room__in=rooms + personal).select_related("room")
    meetings = VirtualMeeting.objects.filter(reference__in=[meeting_reference(s, s.room) for s in sessions])
    wanted = math.ceil(args.handover_after * meetings.count())
    try:
        wait_until(
            lambda: meetings.filter(status="available").count() >= wanted,
            timeout=90,
            what="the meetings to hand over",
            interval=0.2,
        )
    except TimeoutError:
        pass  # hand them over anyway: fewer of them exist yet
    # Where they are as they are handed over: made, being made, a create's answer in doubt, waiting...
    states = dict(meetings.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    states["create in doubt"] = meetings.filter(maybe_created=True).count()
    to_b, attempts = hand_over(rooms=rooms, to_host=HOST_B, reason="Host A leaves the organisation.")
    handed = [{"id": to_b.pk, "from": HOST_A, "to": HOST_B, "rooms": to_b.rooms.count(), "attempts": attempts}]
    if personal:
        to_a, attempts = hand_over(
            rooms=personal, to_host=HOST_A, reason="Into the site's account.", from_owner=trainer
        )
        handed.append(
            {"id": to_a.pk, "from": trainer.username, "to": HOST_A, "rooms": to_a.rooms.count(), "attempts": attempts}
        )
    handed[0]["states_at_handover"] = states
    say(
        f"Handed {handed[0]['rooms']} rooms of host A to host B and {len(personal)} of {trainer.username}'s (own "
        f"connection) to host A; their meetings then: {states}."
    )
    return handed


# --- the sweep, as beat would run it ----------------------------------------------------------------------------
class Sweeper:
    def __init__(self, every: float = 2.0):
        self.every = every
        self.stopping = threading.Event()
        self.runs = 0
        self.queued = 0
        self.thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def _loop(self):
        from django.db import connection

        from virtualmeeting.sync import meeting_sweep

        while not self.stopping.wait(self.every):
            try:
                self.queued += meeting_sweep()
                self.runs += 1
            except Exception as exc:  # a database hiccup must not end the sweeping
                print(f"  sweep failed: {type(exc).__name__}: {exc}", flush=True)
            finally:
                connection.close()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=30)


# --- the checks ---------------------------------------------------------------------------------------------
def zoom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify(admin, emails: dict[int, str], expected_counts: dict, *, hosts: tuple[str, ...] = ()) -> dict:
    """Compare the seminar data with what the simulator holds (`admin`: its simulators.zoom.client.AdminClient).

    `emails`: the Zoom user of each trainer's own connection; `hosts`: the site account's hosts (their meetings
    are listed too). The meetings of a room in the site account belong to its host, the others' to the room
    owner's own Zoom user.
    """
    from seminars.meetings import meeting_reference
    from seminars.models import Booking, Session
    from virtualmeeting.models import WORK_STATUSES, VirtualMeeting

    rows = {m.reference: m for m in VirtualMeeting.objects.all()}
    # Nothing of ours is in a Zoom meeting (attendees read it all): a meeting is traced to a row by what was sent.
    by_fingerprint = {(m.topic[:200], zoom_time(m.start)): m.reference for m in rows.values()}
    listed = sorted(set(emails.values()) | set(hosts))
    remote = [m for email in listed for m in admin.meetings(host=email) if not m["deleted"]]
    by_id = {str(m["id"]): m for m in remote}
    sessions = list(Session.objects.select_related("event", "room"))
    expected, missing, wrong_time, wrong_zone, wrong_topic, wrong_host, not_available = [], [], [], [], [], [], []
    for session in sessions:
        if session.event.cancelled or session.room is None or session.room.virtual_kind != "zoom":
            continue
        reference = meeting_reference(session, session.room)
        expected.append(reference)
        row = rows.get(reference)
        if row is None or row.status != VirtualMeeting.Status.AVAILABLE or not row.join_url:
            not_available.append(reference)
        meeting = by_id.get(row.remote_id) if row and row.remote_id else None
        if meeting is None:
            missing.append(reference)
            continue
        minutes = int((session.finish - session.start).total_seconds() // 60)
        if meeting["start_time"] != zoom_time(session.start) or meeting["duration"] != minutes:
            wrong_time.append((reference, meeting["start_time"], meeting["duration"]))
        if meeting["timezone"] != session.time_zone:
            wrong_zone.append((reference, meeting["timezone"], session.time_zone))
        if meeting["topic"] != row.topic[:200]:
            wrong_topic.append(reference)
        room = session.room
        if meeting["host"] != (room.virtual_host_email if room.in_site_account else emails.get(room.created_by_id)):
            wrong_host.append(reference)
    wanted_ids = {rows[ref].remote_id for ref in expected if ref in rows and rows[ref].remote_id}
    duplicates, orphans = [], []
    for meeting in remote:
        if str(meeting["id"]) in wanted_ids:
            continue
        owner = by_fingerprint.get((meeting["topic"], meeting["start_time"]))
        (duplicates if owner in expected else orphans).append(
            {"id": meeting["id"], "reference": owner, "topic": meeting["topic"]}
        )
    bookings = Booking.objects.count()
    return {
        "sessions_expected": expected_counts["sessions"],
        "sessions_found": len(sessions),
        "bookings_expected": expected_counts["bookings"],
        "bookings_found": bookings,
        "meetings_expected": len(expected),
        "meetings_found": len(expected) - len(missing),
        "zoom_meetings_alive": len(remote),
        "missing": missing,
        "not_available": not_available,
        "duplicates": duplicates,
        "orphans": orphans,
        "wrong_time": wrong_time,
        "wrong_zone": wrong_zone,
        "wrong_topic": wrong_topic,
        "wrong_host": wrong_host,
        "still_pending": VirtualMeeting.objects.filter(status__in=WORK_STATUSES).count(),
        "failed": list(VirtualMeeting.objects.filter(status="failed").values_list("reference", "last_error")),
    }


def verify_handovers(admin, emails: dict[int, str], handover_ids: list[int]) -> dict:
    """Where each meeting of the handed rooms is, by the simulator and by the handover's progress.

    For each session the handover moved: its meeting exists exactly once among the new host's (or new owner's)
    live meetings, by the topic and start it was sent with, and it is the one its row records; none is left
    among the old host's (or old owner's own Zoom user's). "moved" counts the sessions for which all of that
    holds and the progress says moved.
    """
    from seminars.meetings import meeting_reference
    from seminars.models import Room, RoomHandover
    from seminars.selectors.handovers import Placement, handover_progress

    alive: dict[str, list[dict]] = {}

    def live(email: str) -> list[dict]:
        if email not in alive:
            alive[email] = [m for m in admin.meetings(host=email) if not m["deleted"]]
        return alive[email]

    def where(hosting: str, host_email: str, owner_id) -> str:
        return host_email if hosting == Room.HOSTING_ACCOUNT else emails.get(owner_id, f"(user {owner_id})")

    handed, moved = 0, 0
    progress: dict[str, int] = {}
    missing, duplicates, orphans, not_recorded = [], [], [], []
    for handover in RoomHandover.objects.filter(pk__in=handover_ids).prefetch_related("rooms").order_by("pk"):
        new_email = where(handover.to_hosting, handover.to_host_email, handover.to_owner_id)
        old_email = {
            row.room_id: where(row.from_hosting, row.from_host_email, row.from_owner_id) for row in handover.rooms.all()
        }
        state = handover_progress(handover=handover)
        for placement, count in state.counts.items():
            progress[placement] = progress.get(placement, 0) + count
        for session, meeting, placement in state.rows:
            handed += 1
            reference = meeting_reference(session, session.room)
            if meeting is None:
                missing.append({"reference": reference, "new_host": new_email, "why": "no meeting row"})
                continue
            sent = (meeting.topic[:200], zoom_time(session.start))
            there = [m for m in live(new_email) if (m["topic"], m["start_time"]) == sent]
            left = [m for m in live(old_email[session.room_id]) if (m["topic"], m["start_time"]) == sent]
            for m in left:
                orphans.append({"id": m["id"], "reference": reference, "host": m["host"], "topic": m["topic"]})
            if not there:
                missing.append({"reference": reference, "new_host": new_email, "row_remote_id": meeting.remote_id})
                continue
            for m in there[1:]:
                duplicates.append({"id": m["id"], "reference": reference, "host": m["host"]})
            if len(there) == 1 and str(there[0]["id"]) != meeting.remote_id:
                not_recorded.append({"id": there[0]["id"], "reference": reference, "row_remote_id": meeting.remote_id})
            elif len(there) == 1 and not left and placement == Placement.MOVED:
                moved += 1
    return {
        "handovers": len(handover_ids),
        "handed_over": handed,
        "moved": moved,
        "progress": progress,
        "missing_in_new_host": missing,
        "duplicates_in_new_host": duplicates,
        "orphans_in_old_host": orphans,
        "not_recorded": not_recorded,
        "host_meetings_alive": {email: len(live(email)) for email in (HOST_A, HOST_B)},
    }


HANDOVER_PROBLEMS = ("missing_in_new_host", "duplicates_in_new_host", "orphans_in_old_host", "not_recorded")


def handover_converged(handover: dict) -> bool:
    return (
        handover["handed_over"] > 0
        and handover["moved"] == handover["handed_over"]
        and handover["progress"] == {"moved": handover["handed_over"]}
        and not any(handover[key] for key in HANDOVER_PROBLEMS)
    )


def verify_teams(admin) -> dict:
    """Compare the sessions in Teams rooms with what the Microsoft simulator holds (`admin`: its AdminClient): each
    wanted session's meeting exactly once, at its time; no other meeting alive."""
    from seminars.meetings import meeting_reference
    from seminars.models import Session
    from simulators.microsoft.graph import parse_time
    from virtualmeeting.models import VirtualMeeting

    rows = {m.reference: m for m in VirtualMeeting.objects.filter(provider="teams")}
    alive = admin.meetings()
    by_id = {m["id"]: m for m in alive}
    expected, missing, not_available, wrong_time = [], [], [], []
    for session in Session.objects.select_related("event", "room").filter(room__virtual_kind="teams"):
        if session.event.cancelled:
            continue
        reference = meeting_reference(session, session.room)
        expected.append(reference)
        row = rows.get(reference)
        if row is None or row.status != VirtualMeeting.Status.AVAILABLE or not row.join_url:
            not_available.append(reference)
        meeting = by_id.get(row.remote_id) if row and row.remote_id else None
        if meeting is None:
            missing.append(reference)
            continue
        if parse_time(meeting["start"]) != session.start or parse_time(meeting["end"]) != session.finish:
            wrong_time.append((reference, meeting["start"], meeting["end"]))
    wanted = {rows[ref].remote_id for ref in expected if ref in rows and rows[ref].remote_id}
    return {
        "meetings_expected": len(expected),
        "meetings_found": len(expected) - len(missing),
        "teams_meetings_alive": len(alive),
        "missing": missing,
        "not_available": not_available,
        "wrong_time": wrong_time,
        "extra": [m["id"] for m in alive if m["id"] not in wanted],
        "failed": list(
            VirtualMeeting.objects.filter(provider="teams", status="failed").values_list("reference", "last_error")
        ),
    }


def teams_converged(teams: dict) -> bool:
    return teams["meetings_found"] == teams["meetings_expected"] and not any(
        teams[key] for key in ("missing", "not_available", "wrong_time", "extra", "failed")
    )


def converged(result: dict) -> bool:
    if "handover" in result and not handover_converged(result["handover"]):
        return False
    if "teams" in result and not teams_converged(result["teams"]):
        return False
    return (
        result["sessions_found"] == result["sessions_expected"]
        and result["bookings_found"] == result["bookings_expected"]
        and result["meetings_found"] == result["meetings_expected"]
        and not any(
            result[key]
            for key in (
                "missing",
                "not_available",
                "duplicates",
                "orphans",
                "wrong_time",
                "wrong_zone",
                "wrong_topic",
                "wrong_host",
                "failed",
            )
        )
        and result["still_pending"] == 0
    )


def product_quota_used() -> dict[str, int]:
    from virtualmeeting_zoom.models import ZoomDailyUsage

    return {row.zoom_user_id: row.count for row in ZoomDailyUsage.objects.order_by("zoom_user_id")}


# --- the run ----------------------------------------------------------------------------------------------
def run(args) -> dict:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = args.workdir or ROOT / "var" / "bench" / f"convergence-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    redis_server = RedisServer(workdir, args.redis_port).start()
    sim = Simulator(workdir, redirect_uri=redirect_uri(), users=args.trainers).start()
    ms = MicrosoftSimulator(workdir).start() if args.teams_sessions else None
    workers = None
    sweeper = None
    try:
        env = configure_environment(
            database_url=args.database_url,
            broker_url=redis_server.url(0),
            sim_url=sim.url,
            settings_module="bench.sync_settings",
            var_dir=workdir / "var",
            ms_url=ms.url if ms else "",
        )
        database_recreate(args.database_url)
        prepare_django(sim.url, ms.url if ms else "")
        from lms.celery import app

        app.conf.task_always_eager = False
        from seminars.models import Session

        seminar, trainers = course_with_trainers(args.trainers)
        emails = {}
        for index, trainer in enumerate(trainers, start=1):
            connect_trainer(trainer, zoom_email=sim_user_email(index), sim_url=sim.url)
            emails[trainer.pk] = sim_user_email(index)
        say(f"Connected {len(trainers)} trainers to Zoom (simulator {sim.url}) through the OAuth flow.")
        teams_trainer = None
        if ms:
            teams_trainer = teams_trainer_add(seminar)
            connect_teams_trainer(teams_trainer, ms_url=ms.url)
            say(f"Connected {teams_trainer.username} to Microsoft Teams (simulator {ms.url}) through the OAuth flow.")
        hosts = ()
        if args.handover:
            account_hosts_add(sim.admin)
            hosts = (HOST_A, HOST_B)
            host_a_person, _ = account_people(seminar)
            say(f"Site account: host A {HOST_A} and host B {HOST_B}, active users of account A.")

        workers = Workers(workdir, env)
        workers.start(args.workers)
        sim.admin.set_faults(route="*", seed=args.seed, timeout_seconds=FAULT_TIMEOUT_SECONDS, **FAULTS)
        if ms:
            ms.admin.set_faults(route="*", seed=args.seed, **TEAMS_FAULTS)
            # Graph's calls fail; the sign-in endpoint's refreshes too would only make a connection revoked.
            ms.admin.set_faults(route="identity.token", **{kind: 0 for kind in TEAMS_FAULTS})
        say(f"Faults on: {FAULTS} ({args.workers} workers, Redis on port {args.redis_port}).")

        began = time.monotonic()
        base = (datetime.now(UTC) + timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
        plan = plan_events(args.sessions, args.trainers)
        events = create_events(seminar, trainers, plan, base, rng)
        teams_events = []
        if teams_trainer is not None:
            teams_events = create_events(
                seminar,
                [teams_trainer],
                plan_events(args.teams_sessions, 1),
                base,
                random.Random(args.seed + 2),
                first_slot=args.sessions + args.handover,
                kind="teams",
            )
        account_events = []
        if args.handover:
            # The site switches new rooms to its Zoom account; host A's person makes rooms hosted by host A.
            site_account_for_new_rooms()
            account_plan = plan_events(args.handover, 1)
            account_events = create_events(
                seminar, [host_a_person], account_plan, base, random.Random(args.seed + 1), first_slot=args.sessions
            )
        say(
            f"Created {Session.objects.count()} sessions in {len(events) + len(account_events)} events"
            + (f" ({args.handover} in rooms of the site account hosted by host A)" if args.handover else "")
            + f" ({time.monotonic() - began:.1f} s)."
        )
        booked = book_learners(seminar, events + account_events + teams_events, LEARNERS)
        sweeper = Sweeper().start()

        from virtualmeeting.models import VirtualMeeting

        def available():
            return VirtualMeeting.objects.filter(status="available").count()

        wait_until(lambda: available() >= len(events) * 2, timeout=120, what="some meetings to be created")
        changes, sessions_changed = plan_changes(events + teams_events, rng)
        handovers = []
        if args.handover:
            handovers = hand_over_mid_run(args, account_events, events, trainers[0], changes)
        half = len(changes) // 2
        first = apply_changes(changes[:half], rng)
        say(f"Wave 1 of changes: {first} (available so far: {available()}).")

        victim = wait_until(workers.busy, timeout=10, what="a worker in the middle of a task", interval=0.05)
        workers.kill(victim)
        say(f"Killed worker pid {victim.pid} with SIGKILL; starting another.")
        workers.start(1)

        second = apply_changes(changes[half:], rng)
        # Move some sessions a second time, while their first move may still be in flight.
        again = [("move again", event_id, session_id) for kind, event_id, session_id in changes if kind == "move"]
        again = again[::3]
        third = apply_changes(again, rng)
        say(f"Wave 2 of changes: {second}; moved again: {third['move']}.")

        redis_server.restart()
        say("Restarted Redis (every queued message lost).")
        time.sleep(args.fault_seconds)
        sim.admin.clear_faults()
        if ms:
            ms.admin.clear_faults()
        faults_off = time.monotonic()
        say(f"Faults off after {faults_off - began:.0f} s; waiting for quiet (at most {args.settle_timeout:g} s).")

        from virtualmeeting.models import WORK_STATUSES

        try:
            wait_until(
                lambda: not VirtualMeeting.objects.filter(status__in=WORK_STATUSES).exists(),
                timeout=args.settle_timeout,
                what="every meeting to settle",
                interval=1,
            )
            settled = True
        except TimeoutError:
            settled = False
        quiet = time.monotonic()
        sweeper.stop()

        # What the services were told: every session made, less those removed; every booking kept.
        removed = first["remove"] + second["remove"]
        expected = {"sessions": args.sessions + args.handover + args.teams_sessions - removed, "bookings": booked}
        result = verify(sim.admin, emails, expected, hosts=hosts)
        if ms:
            result["teams"] = verify_teams(ms.admin)
        if handovers:
            result["handover"] = {
                **verify_handovers(sim.admin, emails, [h["id"] for h in handovers]),
                "made": handovers,
            }
        log = sim.requests_log()
        counts = outcome_counts(log)
        if ms:
            graph = Counter(
                (entry["route"], str(entry["status"]))
                for entry in ms.admin.requests()
                if entry["route"].startswith("graph.meetings.")
            )
            result["teams"]["graph_calls"] = {f"{route} {status}": n for (route, status), n in sorted(graph.items())}
            result["teams"]["faults_injected"] = sum(
                n for (_route, status), n in graph.items() if status in TEAMS_FAULT_STATUSES
            )
        result.update(
            {
                "settled": settled,
                "settle_seconds": round(quiet - faults_off, 1),
                "run_seconds": round(quiet - began, 1),
                "changes": {kind: first[kind] + second[kind] + third[kind] for kind in first},
                "sessions_changed": sessions_changed,
                "events": len(events),
                "trainers": args.trainers,
                "workers": args.workers,
                "workers_killed": workers.killed,
                "redis_restarts": redis_server.restarts,
                "zoom_calls": {f"{route} {status}": n for (route, status), n in sorted(counts.items())},
                "faults_injected": sum(
                    n for (_, status), n in counts.items() if status in ("500", "502", "close", "hang", "429")
                ),
                "task_outcomes": dict(workers.task_outcomes()),
                "worker_rss_mb": {p.pid: rss_mb(p.pid) for p in workers.running()},
                "zoom_quota_used": {
                    email: sim.admin.quota(email)["used"] for email in sorted(set(emails.values()) | set(hosts))
                },
                # The product's own count (it counts every attempt, failed ones too): the margin to its 100 a day.
                "product_quota_used": product_quota_used(),
            }
        )
        result["converged"] = converged(result)
        return result
    finally:
        if sweeper is not None:
            sweeper.stop()
        if workers is not None:
            workers.stop_all()
        sim.stop()
        if ms:
            ms.stop()
        redis_server.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            database_drop(args.database_url)


def report(result: dict) -> None:
    print()
    print(
        f"Converged: {'YES' if result['converged'] else 'NO'}  (settled: {result['settled']}, "
        f"{result['settle_seconds']} s after the faults stopped; whole run {result['run_seconds']} s)"
    )
    print(
        f"Sessions: {result['sessions_found']} found / {result['sessions_expected']} expected "
        f"({result['events']} events, {result['trainers']} trainers, {result['sessions_changed']} sessions changed: "
        f"{result['changes']})"
    )
    print(f"Bookings: {result['bookings_found']} found / {result['bookings_expected']} expected")
    if "teams" in result:
        teams = result["teams"]
        print(
            f"Teams meetings: {teams['meetings_found']} found / {teams['meetings_expected']} expected; alive in "
            f"Teams: {teams['teams_meetings_alive']}; missing {teams['missing']}, not available "
            f"{teams['not_available']}, wrong time {teams['wrong_time']}, extra {teams['extra']}, failed "
            f"{teams['failed']}"
        )
    print(
        f"Meetings: {result['meetings_found']} found / {result['meetings_expected']} expected; "
        f"alive in Zoom: {result['zoom_meetings_alive']}"
    )
    for key in (
        "duplicates",
        "orphans",
        "missing",
        "not_available",
        "wrong_time",
        "wrong_zone",
        "wrong_topic",
        "wrong_host",
        "failed",
    ):
        print(f"  {key}: {len(result[key])}" + (f"  {result[key][:5]}" if result[key] else ""))
    print(f"  still pending: {result['still_pending']}")
    handover = result.get("handover")
    if handover:
        print(
            f"Handovers: {handover['handovers']} ({handover['made']}); meetings handed over: "
            f"{handover['handed_over']}, moved: {handover['moved']}; progress: {handover['progress']}; "
            f"live meetings per host: {handover['host_meetings_alive']}"
        )
        for key in HANDOVER_PROBLEMS:
            print(f"  {key}: {len(handover[key])}" + (f"  {handover[key][:5]}" if handover[key] else ""))
    print(
        f"Faults injected by the simulator: {result['faults_injected']}; workers killed: "
        f"{result['workers_killed']}; Redis restarts: {result['redis_restarts']}"
    )
    outcomes = result["task_outcomes"]
    print(
        f"Worker steps: {outcomes} (retries: {outcomes.get('retry', 0)}, waits for a limit: "
        f"{outcomes.get('waiting', 0)}, lost answers recovered: {outcomes.get('find (adopted)', 0)})"
    )
    print(f"Zoom calls: {result['zoom_calls']}")
    print(
        f"Zoom quota used per user: {result['zoom_quota_used']} (the simulator's count); "
        f"{result['product_quota_used']} (the product's count, by Zoom user id)"
    )
    print(f"Worker resident memory (MB): {result['worker_rss_mb']}")


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["converged"] else 1


if __name__ == "__main__":
    sys.exit(main())
