"""Page benchmark: the seminar page, the event page, "My sessions" and the reports (pages and CSV) under
gunicorn and PostgreSQL.

    .venv/bin/python bench/pages.py            # about three minutes; see --help

What it does, in one run:
1. creates the PostgreSQL database named in DATABASE_URL if it is missing
   (default postgres://postgres@127.0.0.1:5432/lms_bench), migrates it and
   empties it (it is a benchmark database: every run starts from the same data);
2. counts the SQL queries of every page in-process (Django's test client and
   CaptureQueriesContext) on a small dataset (rolled back: 50 events of one
   session and five signups) and on the full one: fewer events, sessions per
   event and bookings per event, so a query per row would show as a difference;
3. loads the full dataset (bench/dataset.py: 1,000 sessions, 5,000 bookings);
4. starts gunicorn (sync workers, one per CPU by default) on a free loopback
   port with DEBUG off and bench.settings (the LMS plus /bench/minimal/);
5. logs a learner and a trainer in through the login form, then loads each page
   from a few client threads, in interleaved rounds, for a bounded time and
   number of requests, the minimal view included;
6. reads the gunicorn workers' resident memory, stops gunicorn, profiles the
   pages that missed their target in-process (cProfile), prints a table, writes
   bench/results/pages-<date>.json and the "Pages" and "Memory (web)" sections of
   docs/benchmarks.md.
"""

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.harness import RedisServer, free_port, run_keys, server_params  # noqa: E402
from bench.machine import child_pids, machine_info, rss_mb  # noqa: E402
from bench.pages_inprocess import (  # noqa: E402
    SMALL_DATASET,
    count_queries,
    pages_for,
    profile_page,
    small_size_counts,
    time_in_process,
)
from bench.pages_report import docs_memory_section, docs_pages_section, print_table, summarise  # noqa: E402
from bench.pages_server import gunicorn_stop, gunicorn_up, login_cookie  # noqa: E402
from bench.wrkload import WrkResult, run_wrk  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lms_bench"
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark the seminar, event, My sessions and report pages against a minimal Django view "
        "(gunicorn + PostgreSQL, loopback only; stops by itself).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to create/reuse (emptied on every run); env DATABASE_URL",
    )
    parser.add_argument("--events", type=int, default=500, help="events of two sessions and ten signups each")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread only)")
    parser.add_argument("--concurrency", type=int, default=8, help="open connections of wrk")
    parser.add_argument("--client-threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per page (split over the rounds)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all pages")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


# ---- Environment and database ----------------------------------------------------------------


def configure_environment(database_url: str, redis_url: str) -> dict:
    """The environment of this process and of gunicorn: production-like settings, loopback only; the cache and the
    sessions in a private Redis, as in production."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        **run_keys(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "LMS_VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
        # A private redis-server of this run: the cache (per-user facts) and the sessions, as in production.
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": "filesystem://",
    }
    os.environ.update(env)
    return env


def database_ensure(database_url: str) -> None:
    """Create the database if it does not exist (connecting to the server's `postgres` database)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    if not config["ENGINE"].endswith("postgresql"):
        raise SystemExit(f"The page benchmark needs PostgreSQL; DATABASE_URL is {config['ENGINE']}.")
    if "bench" not in config["NAME"]:
        # A DATABASE_URL exported for development must never be emptied by a benchmark run.
        raise SystemExit(
            f"bench/pages.py empties its database on every run, so its name must contain 'bench' "
            f"(got {config['NAME']!r}); pass --database-url postgres://.../lms_bench"
        )
    params = server_params(config)
    try:
        with psycopg.connect(**params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
                print(f"Created database {config['NAME']}.")
    except psycopg.OperationalError as exc:
        # The message names host and port; the URL (which may hold a password) is not printed.
        raise SystemExit(f"Cannot reach PostgreSQL at {params['host']}:{params['port']}: {exc}") from None


def database_analyze() -> None:
    """Refresh the planner's statistics after the bulk load, as autovacuum would on a live site."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def django_prepare() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


# ---- Load ------------------------------------------------------------------------------------


def measure(args, pages: list[dict], port: int, cookies: dict) -> dict:
    """Warm up, then interleaved rounds: every page gets seconds/rounds per round, under the same conditions."""
    per_round = max(1.0, args.seconds / args.rounds)
    results = {page["key"]: WrkResult() for page in pages}

    def load(page, seconds):
        return run_wrk(
            host="127.0.0.1",
            port=port,
            plan=[(page["path"], cookies[page["user"]])],
            expect_text=page.get("expect", ""),
            expect_location=page.get("expect_location", ""),
            connections=args.concurrency,
            threads=args.client_threads,
            seconds=seconds,
        )

    for page in pages:
        load(page, 1)  # warm-up: imports, caches, connections
    for round_number in range(args.rounds):
        for page in pages:
            result = load(page, per_round)
            results[page["key"]].add(result)
            print(
                f"  round {round_number + 1}/{args.rounds} {page['label']:<26} {result.rps:8.1f} req/s "
                f"({result.requests} requests, {result.errors} errors)",
                flush=True,
            )
    return results


def wrk_version() -> str:
    import subprocess

    answer = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    words = (answer.stdout or answer.stderr).split()
    return words[1] if len(words) > 1 else "?"


# ---- Main ------------------------------------------------------------------------------------


@contextmanager
def bench_site(database_url: str):
    """A private redis-server, this process's environment (also gunicorn's: yielded), and the benchmark database
    created if missing, migrated and emptied. The redis-server stops at the end."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(RESULTS, free_port()).start()
    try:
        env = configure_environment(database_url, redis.url(0))
        database_ensure(database_url)
        print("Migrating, emptying the benchmark database ...", flush=True)
        django_prepare()
        yield env
    finally:
        redis.stop()


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    machine = machine_info()
    with bench_site(args.database_url) as env:
        return _run(args, env, began, machine, argv)


def _run(args, env, began, machine, argv) -> int:
    from django.db import connections

    from bench.dataset import PASSWORD, dataset_load, live_event_load

    print(f"Counting queries on a small dataset (rolled back): {SMALL_DATASET} ...", flush=True)
    small = small_size_counts()
    print(f"Loading {args.events * 2} sessions, {args.events * 10} bookings ...", flush=True)
    dataset = dataset_load(events=args.events)
    live_event_load(learners=1)  # bench-learner's session starting in five minutes: the "Join now" redirect
    database_analyze()
    counts_big = count_queries(dataset)
    timings = time_in_process(dataset)
    pages = pages_for(dataset)
    pg_version = postgres_version()
    connections.close_all()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = RESULTS / f"gunicorn-{stamp}.log"
    process, port = gunicorn_up(args, env, log_path)
    try:
        cookies = {user: login_cookie(port, user, PASSWORD) for user in (dataset.learner, dataset.trainer)}
        print(
            f"Load: wrk, {args.concurrency} connections, {args.rounds} rounds, {args.seconds:.0f} s per page ...",
            flush=True,
        )
        load = measure(args, pages, port, cookies)
        workers = [{"pid": pid, **rss_mb(pid)} for pid in child_pids(process.pid)]
        memory = {"workers": workers, "master": {"pid": process.pid, **rss_mb(process.pid)}}
    finally:
        gunicorn_stop(process)

    rows = summarise(pages, load, small["counts"], counts_big, timings)
    profiles = {row["key"]: profile_page(dataset, row["key"]) for row in rows if not row["meets_target"]}
    command = " ".join([".venv/bin/python bench/pages.py", *(sys.argv[1:] if argv is None else argv)])
    result = {
        "command": command,
        "machine": machine,
        "postgres": pg_version,
        "settings": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "concurrency": args.concurrency,
            "client_threads": args.client_threads,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "wrk": wrk_version(),
            "gunicorn": version("gunicorn"),
        },
        "dataset": vars(dataset),
        "small_dataset": small["dataset"],
        "pages": rows,
        "queries": {"small": small["counts"], "big": counts_big},
        "memory": memory,
        "profiles": profiles,
        "duration_s": round(time.monotonic() - began),
    }
    out = RESULTS / f"pages-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print_table(rows, memory)
    print(f"\nResults: {out.relative_to(ROOT)} ({result['duration_s']} s)")
    if not args.no_docs:
        section_write(DOCS, "Pages", "pages", docs_pages_section(result))
        section_write(DOCS, "Memory (web)", "memory-web", docs_memory_section(result))
        print(f"Updated {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
