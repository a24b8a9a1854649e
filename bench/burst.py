"""The burst at a session's start: every booked learner opens the event page and clicks "Join now" in the same
minute.

    .venv/bin/python bench/burst.py                    # 1,000 learners, 60 s; about three minutes in all
    .venv/bin/python bench/burst.py --learners 300 --connections 20

One run:
1. migrates and empties its PostgreSQL database (its name must contain "bench"), loads the page benchmark's
   dataset (bench/dataset.py, 1,000 sessions) and the live event: one session starting in five minutes in a
   Zoom room whose meeting asks for registration, with `--learners` booked learners, each registered (their
   own join link);
2. starts a private redis-server (the cache and the sessions, as in production) and, for each of
   `--worker-classes` in turn, gunicorn (one worker per CPU, DEBUG off) with an empty cache;
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
    parser.add_argument(
        "--worker-classes",
        default="gthread,sync",
        help="gunicorn worker classes to run the burst against, one after the other (gthread: the production "
        "setting, keeping a learner's connection alive between their two requests; sync: gunicorn's default)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread only)")
    args = parser.parse_args(argv)
    args.worker_classes = [name.strip() for name in args.worker_classes.split(",") if name.strip()]
    unknown = set(args.worker_classes) - {"sync", "gthread"}
    if unknown or not args.worker_classes:
        parser.error(f"--worker-classes takes sync and/or gthread, not {', '.join(sorted(unknown)) or 'nothing'}")
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
    from django.core.cache import cache
    from django.db import connections
    from django.urls import reverse

    from bench.dataset import dataset_load, live_event_load

    print(f"Loading {args.events * 2} sessions and a live event with {args.learners} booked learners ...", flush=True)
    dataset_load(events=args.events)
    live = live_event_load(learners=args.learners)
    database_analyze()
    event_path = reverse("seminars:event", args=[live.event_id])
    join_path = reverse("seminars:virtual_join", args=[live.session_id])

    # A learner count that is not a multiple of the connections leaves a short last block: use fewer connections.
    connections_used = args.connections
    while args.learners % connections_used:
        connections_used -= 1

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = []
    for worker_class in args.worker_classes:
        # Each server starts as cold as the first: an empty cache, and sessions made again (they live in it).
        cache.clear()
        cookies = sessions_for(live.learners)
        connections.close_all()
        plan = burst_plan(
            live.learners, cookies, event_path=event_path, join_path=join_path, connections=connections_used
        )
        runs.append(_burst(args, env, worker_class, stamp, plan, connections_used, len(live.learners)))

    command = " ".join([".venv/bin/python bench/burst.py", *(sys.argv[1:] if argv is None else argv)])
    out = {
        "command": command,
        "machine": machine,
        "learners": len(live.learners),
        "connections": connections_used,
        "window_s": args.seconds,
        "workers": args.workers,
        "runs": runs,
        "duration_s": round(time.monotonic() - began),
    }
    path = RESULTS / f"burst-{stamp}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"Results: {path.relative_to(ROOT)}")
    if not args.no_docs:
        section_write(DOCS, "Burst at a session's start", "burst", docs_section(out))
        print(f"Updated {DOCS.relative_to(ROOT)}")
    return 0


def _burst(args, env, worker_class: str, stamp: str, plan, connections_used: int, learners: int) -> dict:
    """One burst against a fresh gunicorn of `worker_class`: the run's numbers and whether it met the target."""
    from bench.dataset import LIVE_JOIN_PREFIX

    server = argparse.Namespace(workers=args.workers, worker_class=worker_class, threads=args.threads)
    log_path = RESULTS / f"gunicorn-burst-{stamp}-{worker_class}.log"
    if args.access_log:
        server.access_log = RESULTS / f"access-burst-{stamp}-{worker_class}.log"
        print(f"Access log: {server.access_log.relative_to(ROOT)}", flush=True)
    process, port = gunicorn_up(server, env, log_path)
    try:
        print(f"Burst: {learners} learners, {connections_used} at a time, {args.seconds} s ...", flush=True)
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
    met = result.errors == 0 and through_s is not None and through_s <= args.seconds
    print(
        f"{worker_class}: {result.answered} of {result.planned} answered, {result.errors} errors, all through after "
        f"{through_s} s; latency p50 {result.percentile_ms(50):.0f} ms, p90 {result.percentile_ms(90):.0f} ms, "
        f"p99 {result.percentile_ms(99):.0f} ms, max {result.percentile_ms('max'):.0f} ms: target "
        f"{'met' if met else 'missed'}.",
        flush=True,
    )
    return {
        "worker_class": worker_class,
        "threads": args.threads if worker_class == "gthread" else 1,
        "requests_planned": result.planned,
        "answered": result.answered,
        "errors": result.errors,
        "error_samples": result.error_samples,
        "all_through_after_s": through_s,
        "latency_ms": result.percentiles_ms,
        "met": met,
    }


def _server(run: dict) -> str:
    if run["worker_class"] == "gthread":
        return f"`gthread`, {run['threads']} threads each (keep-alive)"
    return "`sync` (a connection closed after each answer)"


def docs_section(out: dict) -> str:
    lines = [
        f"Measured {out['machine']['date']} on {describe(out['machine'])}.",
        "",
        f"Rerun: `{out['command']}` (took {out['duration_s']} s; JSON under `bench/results/`).",
        "",
        f"{out['learners']} learners booked on one session that starts in five minutes (its meeting asks for "
        "registration: each learner has their own link), each signed in with a session of their own, each "
        f'loading the event page and then clicking "Join now"; {out["connections"]} learners at a time '
        "(wrk, one connection each, a learner's two requests one after the other), gunicorn with "
        f"{out['workers']} workers of each class in turn (each started with an empty cache), PostgreSQL and a "
        "private redis-server on the same machine. Every answer is checked: the event page must be the event's, "
        "the click must lead to the learner's own link.",
        "",
        "| gunicorn workers | requests | answered | errors | everyone through after | p50 | p90 | p95 | p99 | max "
        "| target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in out["runs"]:
        latency = run["latency_ms"]
        through = run["all_through_after_s"]
        lines.append(
            f"| {_server(run)} | {run['requests_planned']} | {run['answered']} | {run['errors']} | "
            + (f"{through} s | " if through is not None else "not within the window | ")
            + " | ".join(f"{latency.get(key, 0):.0f} ms" for key in (50, 90, 95, 99, "max"))
            + f" | {'met' if run['met'] else 'missed'} |"
        )
    lines += ["", f"Target: zero errors and every learner through within {out['window_s']} s."]
    for run in out["runs"]:
        if run["error_samples"]:
            lines += ["", f"First errors ({run['worker_class']}): " + "; ".join(f"`{s}`" for s in run["error_samples"])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
