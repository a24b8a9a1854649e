"""Convergence under faults: do the Zoom meetings end up exactly as the seminar data says?

    .venv/bin/python bench/convergence.py                       # 200 sessions, 5 trainers (issue 5)
    .venv/bin/python bench/convergence.py --sessions 1000 --trainers 10 --workers 4
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
7. the simulator's admin API lists every meeting of the trainers' Zoom users and the
   script checks: each session that should have a meeting has exactly one, with the
   right start_time, duration, zone and topic; no other meeting exists (duplicates
   have the topic and start of a session that should have a meeting, orphans are meetings of
   removed or cancelled sessions);
   no session or booking was lost.

Prints the counts, writes them as JSON (--json), exits 0 when converged, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    ROOT,
    RedisServer,
    Simulator,
    Workers,
    configure_environment,
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
# Longer than the product's 15 s read timeout (virtualmeeting_zoom.client.TIMEOUT): a real client-side timeout.
FAULT_TIMEOUT_SECONDS = 16
LEARNERS = 10
MAX_SESSIONS_PER_TRAINER = 40


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--trainers", type=int, default=5)
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
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument("--workdir", type=Path, help="logs and the simulator's file (default var/bench/convergence-*)")
    args = parser.parse_args(argv)
    if args.sessions > MAX_SESSIONS_PER_TRAINER * args.trainers:
        parser.error(f"at most {MAX_SESSIONS_PER_TRAINER} sessions per trainer: with the changes and the calls that "
                     "fail, more would meet Zoom's 100 creates and updates per user and day, and the rest would "
                     "rightly wait for midnight")
    return args


# --- the seminar side ------------------------------------------------------------------------------------------
def room_new(name: str) -> dict:
    return {"mode": "new", "name": name, "capacity": 30, "description": "", "virtual_kind": "zoom", "virtual_url": ""}


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


def create_events(seminar, trainers, plan, base: datetime, rng: random.Random) -> list:
    """Every trainer's events, each session in its own ad-hoc Zoom room, two days apart."""
    from seminars.services.events import event_save

    events = []
    slot = 0
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
                        "room": room_new(f"{trainer.username} room {position}"),
                    }
                )
            events.append(
                event_save(
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


def verify(admin, emails: dict[int, str], expected_counts: dict) -> dict:
    """Compare the seminar data with what the simulator holds (`admin`: its zoomsim.client.AdminClient)."""
    from seminars.meetings import meeting_reference
    from seminars.models import Booking, Session
    from virtualmeeting.models import WORK_STATUSES, VirtualMeeting

    rows = {m.reference: m for m in VirtualMeeting.objects.all()}
    # Nothing of ours is in a Zoom meeting (attendees read it all): a meeting is traced to a row by what was sent.
    by_fingerprint = {(m.topic[:200], zoom_time(m.start)): m.reference for m in rows.values()}
    remote = [m for email in sorted(set(emails.values())) for m in admin.meetings(host=email) if not m["deleted"]]
    by_id = {str(m["id"]): m for m in remote}
    sessions = list(Session.objects.select_related("event", "room"))
    expected, missing, wrong_time, wrong_zone, wrong_topic, wrong_host, not_available = [], [], [], [], [], [], []
    for session in sessions:
        if session.event.cancelled or session.room is None or not session.room.is_provider_backed:
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
        if meeting["host"] != emails[session.room.created_by_id]:
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


def converged(result: dict) -> bool:
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
    workers = None
    sweeper = None
    try:
        env = configure_environment(
            database_url=args.database_url,
            broker_url=redis_server.url(0),
            sim_url=sim.url,
            settings_module="bench.sync_settings",
            var_dir=workdir / "var",
        )
        database_recreate(args.database_url)
        prepare_django(sim.url)
        from lms.celery import app

        app.conf.task_always_eager = False
        from seminars.models import Session

        seminar, trainers = course_with_trainers(args.trainers)
        emails = {}
        for index, trainer in enumerate(trainers, start=1):
            connect_trainer(trainer, zoom_email=sim_user_email(index), sim_url=sim.url)
            emails[trainer.pk] = sim_user_email(index)
        print(f"Connected {len(trainers)} trainers to Zoom (simulator {sim.url}) through the OAuth flow.", flush=True)

        workers = Workers(workdir, env)
        workers.start(args.workers)
        sim.admin.set_faults(route="*", seed=args.seed, timeout_seconds=FAULT_TIMEOUT_SECONDS, **FAULTS)
        print(f"Faults on: {FAULTS} ({args.workers} workers, Redis on port {args.redis_port}).", flush=True)

        began = time.monotonic()
        base = (datetime.now(UTC) + timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
        plan = plan_events(args.sessions, args.trainers)
        events = create_events(seminar, trainers, plan, base, rng)
        print(
            f"Created {Session.objects.count()} sessions in {len(events)} events ({time.monotonic() - began:.1f} s).",
            flush=True,
        )
        booked = book_learners(seminar, events, LEARNERS)
        sweeper = Sweeper().start()

        from virtualmeeting.models import VirtualMeeting

        def available():
            return VirtualMeeting.objects.filter(status="available").count()

        wait_until(lambda: available() >= len(events) * 2, timeout=120, what="some meetings to be created")
        changes, sessions_changed = plan_changes(events, rng)
        half = len(changes) // 2
        first = apply_changes(changes[:half], rng)
        print(f"Wave 1 of changes: {first} (available so far: {available()}).", flush=True)

        victim = wait_until(workers.busy, timeout=10, what="a worker in the middle of a task", interval=0.05)
        workers.kill(victim)
        print(f"Killed worker pid {victim.pid} with SIGKILL; starting another.", flush=True)
        workers.start(1)

        second = apply_changes(changes[half:], rng)
        # Move some sessions a second time, while their first move may still be in flight.
        again = [("move again", event_id, session_id) for kind, event_id, session_id in changes if kind == "move"]
        again = again[::3]
        third = apply_changes(again, rng)
        print(f"Wave 2 of changes: {second}; moved again: {third['move']}.", flush=True)

        redis_server.restart()
        print("Restarted Redis (every queued message lost).", flush=True)
        time.sleep(args.fault_seconds)
        sim.admin.clear_faults()
        faults_off = time.monotonic()
        print(
            f"Faults off after {faults_off - began:.0f} s; waiting for quiet (at most {args.settle_timeout:g} s).",
            flush=True,
        )

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
        result = verify(sim.admin, emails, {"sessions": args.sessions - removed, "bookings": booked})
        log = sim.requests_log()
        counts = outcome_counts(log)
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
                "zoom_quota_used": {email: sim.admin.quota(email)["used"] for email in sorted(set(emails.values()))},
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
    print(f"Zoom quota used per user: {result['zoom_quota_used']} (the simulator's count); "
          f"{result['product_quota_used']} (the product's count, by Zoom user id)")
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
