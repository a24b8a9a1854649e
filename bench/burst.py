"""The burst at a session's start: every booked learner opens the event page and clicks "Join now" in the same
minute.

    .venv/bin/python bench/burst.py                    # 1,000 learners, 60 s; about three minutes in all
    .venv/bin/python bench/burst.py --learners 300 --connections 20

One run:
1. migrates and empties its PostgreSQL database (its name must contain "bench"), loads the page benchmark's
   dataset (bench/dataset.py, 1,000 sessions) and the live event: one session starting in five minutes in a
   Zoom room whose meeting asks for registration, with `--learners` booked learners, each registered (their
   own join link);
2. starts a private redis-server (the cache and the sessions, as in production) and gunicorn (sync workers,
   one per CPU, DEBUG off);
3. signs every learner in: a session of their own in the product's session store, as a login makes it
   (the login form's password hashing would take minutes for a thousand people and is not what is measured);
4. sends each learner's two requests from wrk (bench/wrkload.py, `once`): the event page, then "Join now",
   on `--connections` connections, a learner at a time per connection, everything within `--seconds`. Every
   answer is checked: the event page must be the event's, the click must lead to the learner's own link.

Target (issue 13): zero errors, every learner through within the minute; the latency percentiles reported.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.machine import describe, machine_info  # noqa: E402
from bench.pages import bench_site, database_analyze  # noqa: E402
from bench.pages_server import gunicorn_stop, gunicorn_up  # noqa: E402
from bench.wrkload import run_wrk  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lms_bench_burst"
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
EVENT_TEXT = "Live event"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Every booked learner loads the event page and clicks Join now within a minute "
        "(gunicorn + PostgreSQL + Redis, wrk; loopback only).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL database (emptied)")
    parser.add_argument("--learners", type=int, default=1000, help="booked learners, each with their own session")
    parser.add_argument("--connections", type=int, default=50, help="learners at a time")
    parser.add_argument("--seconds", type=int, default=60, help="the window everything must be answered in")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    parser.add_argument("--events", type=int, default=500, help="events of the page benchmark's dataset")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--access-log", action="store_true", help="gunicorn's access log with each request's time in the worker"
    )
    args = parser.parse_args(argv)
    args.worker_class, args.threads = "sync", 1
    return args


def sessions_for(usernames: list[str]) -> dict[str, str]:
    """A signed-in session per user, made the way django.contrib.auth.login makes one: the Cookie header each."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils.module_loading import import_string

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    backend = "lms.auth.CachedModelBackend"
    cookies = {}
    for user in get_user_model().objects.filter(username__in=usernames):
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        cookies[user.username] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return cookies


def burst_plan(usernames, cookies, *, event_path: str, join_path: str, connections: int) -> list[tuple[str, str]]:
    """Each learner's event page then their click, laid out so that wrk's connection k (which takes every
    `connections`-th request from k) sends one learner's two requests one after the other."""
    plan = []
    for block in range(0, len(usernames), connections):
        people = usernames[block : block + connections]
        plan += [(event_path, cookies[name]) for name in people]
        plan += [(join_path, cookies[name]) for name in people]
    return plan


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    machine = machine_info()
    with bench_site(args.database_url) as env:
        return _run(args, env, began, machine, argv)


def _run(args, env, began, machine, argv) -> int:
    from django.db import connections
    from django.urls import reverse

    from bench.dataset import LIVE_JOIN_PREFIX, dataset_load, live_event_load

    print(f"Loading {args.events * 2} sessions and a live event with {args.learners} booked learners ...", flush=True)
    dataset_load(events=args.events)
    live = live_event_load(learners=args.learners)
    database_analyze()
    cookies = sessions_for(live.learners)
    event_path = reverse("seminars:event", args=[live.event_id])
    join_path = reverse("seminars:virtual_join", args=[live.session_id])
    connections.close_all()

    # A learner count that is not a multiple of the connections leaves a short last block: use fewer connections.
    connections_used = args.connections
    while args.learners % connections_used:
        connections_used -= 1
    plan = burst_plan(live.learners, cookies, event_path=event_path, join_path=join_path, connections=connections_used)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = RESULTS / f"gunicorn-burst-{stamp}.log"
    if args.access_log:
        args.access_log = RESULTS / f"access-burst-{stamp}.log"
        print(f"Access log: {args.access_log.relative_to(ROOT)}", flush=True)
    process, port = gunicorn_up(args, env, log_path)
    try:
        print(f"Burst: {len(live.learners)} learners, {connections_used} at a time, {args.seconds} s ...", flush=True)
        started = time.time()
        result = run_wrk(
            host="127.0.0.1",
            port=port,
            plan=plan,
            expect_text=EVENT_TEXT,
            expect_location=LIVE_JOIN_PREFIX + "89999999999?tk=personal-",
            connections=connections_used,
            seconds=args.seconds,
            once=True,
        )
    finally:
        gunicorn_stop(process)

    through_s = round(result.finished_at - started, 1) if result.finished_at else None
    command = " ".join([".venv/bin/python bench/burst.py", *(sys.argv[1:] if argv is None else argv)])
    out = {
        "command": command,
        "machine": machine,
        "learners": len(live.learners),
        "connections": connections_used,
        "window_s": args.seconds,
        "workers": args.workers,
        "requests_planned": result.planned,
        "answered": result.answered,
        "errors": result.errors,
        "error_samples": result.error_samples,
        "all_through_after_s": through_s,
        "latency_ms": result.percentiles_ms,
        "duration_s": round(time.monotonic() - began),
    }
    path = RESULTS / f"burst-{stamp}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    met = result.errors == 0 and through_s is not None and through_s <= args.seconds
    print(
        f"\n{out['answered']} of {out['requests_planned']} answered, {out['errors']} errors, all through after "
        f"{through_s} s; latency p50 {result.percentile_ms(50):.0f} ms, p90 {result.percentile_ms(90):.0f} ms, "
        f"p99 {result.percentile_ms(99):.0f} ms, max {result.percentile_ms('max'):.0f} ms: target "
        f"{'met' if met else 'missed'}.\nResults: {path.relative_to(ROOT)}"
    )
    if not args.no_docs:
        section_write(DOCS, "Burst at a session's start", "burst", docs_section(out, met))
        print(f"Updated {DOCS.relative_to(ROOT)}")
    return 0


def docs_section(out: dict, met: bool) -> str:
    latency = out["latency_ms"]
    lines = [
        f"Measured {out['machine']['date']} on {describe(out['machine'])}.",
        "",
        f"Rerun: `{out['command']}` (took {out['duration_s']} s; JSON under `bench/results/`).",
        "",
        f"{out['learners']} learners booked on one session that starts in five minutes (its meeting asks for "
        "registration: each learner has their own link), each signed in with a session of their own, each "
        f'loading the event page and then clicking "Join now"; {out["connections"]} learners at a time '
        f"(wrk, one connection each, a learner's two requests one after the other), gunicorn with {out['workers']} "
        "sync workers, PostgreSQL and a private redis-server on the same machine. Every answer is checked: the "
        "event page must be the event's, the click must lead to the learner's own link.",
        "",
        "| requests | answered | errors | everyone through after | p50 | p90 | p95 | p99 | max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {out['requests_planned']} | {out['answered']} | {out['errors']} | "
        + (
            f"{out['all_through_after_s']} s | "
            if out["all_through_after_s"] is not None
            else "not within the window | "
        )
        + " | ".join(f"{latency[key]:.0f} ms" for key in (50, 90, 95, 99, "max"))
        + " |",
        "",
        f"Target: zero errors and every learner through within {out['window_s']} s: **{'met' if met else 'missed'}**.",
    ]
    if out["error_samples"]:
        lines += ["", "First errors: " + "; ".join(f"`{sample}`" for sample in out["error_samples"])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
