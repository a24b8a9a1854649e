"""Page benchmark: the seminar page, the event page and "My sessions" under gunicorn and PostgreSQL.

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
import cProfile
import io
import json
import os
import pstats
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.httpload import LoadResult, run_load  # noqa: E402
from bench.machine import child_pids, describe, machine_info, rss_mb  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lms_bench"
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
THROUGHPUT_TARGET = 0.30  # of the minimal view's requests per second
WEB_RSS_TARGET_MB = 120
# The second size the query counts are taken at: smaller in events, sessions per event and signups per event.
SMALL_DATASET = {"events": 50, "sessions_per_event": 1, "signups_per_event": 5}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark the seminar, event and My sessions pages against a minimal Django view "
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
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per page (split over the rounds)")
    parser.add_argument("--max-requests", type=int, default=5000, help="at most this many requests per page")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all pages")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per page first")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


# ---- Environment and database ----------------------------------------------------------------


def configure_environment(database_url: str) -> dict:
    """The environment of this process and of gunicorn: production-like settings, loopback only."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "LMS_VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
        # No Redis: nothing on these pages uses the cache, and the benchmark must not touch others' Redis dbs.
        "REDIS_URL": "",
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
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "connect_timeout": 10,
        "autocommit": True,
    }
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


# ---- Pages -----------------------------------------------------------------------------------


def pages_for(dataset) -> list[dict]:
    """The measured pages: key, label, who is logged in, path, and text the right answer contains."""
    from django.urls import reverse

    return [
        {
            "key": "minimal",
            "label": "Minimal Django view",
            "user": dataset.learner,
            "path": reverse("bench_minimal"),
            "expect": "ok",
        },
        {
            "key": "seminar",
            "label": "Seminar page (learner)",
            "user": dataset.learner,
            "path": reverse("seminars:seminar", args=[dataset.seminar_id]),
            "expect": "Benchmark event 1<",
        },
        {
            "key": "event_learner",
            "label": "Event page (learner)",
            "user": dataset.learner,
            "path": reverse("seminars:event", args=[dataset.event_id]),
            "expect": "Benchmark event 1",
        },
        {
            "key": "event_trainer",
            "label": "Event page (trainer)",
            "user": dataset.trainer,
            "path": reverse("seminars:event", args=[dataset.event_id]),
            "expect": "Benchmark event 1",
        },
        {
            "key": "dashboard_learner",
            "label": "My sessions (learner)",
            "user": dataset.learner,
            "path": reverse("seminars:dashboard"),
            "expect": "Upcoming booked sessions",
        },
        {
            "key": "dashboard_trainer",
            "label": "My sessions (trainer)",
            "user": dataset.trainer,
            "path": reverse("seminars:dashboard"),
            "expect": "Sessions I run",
        },
    ]


def _clients(dataset):
    from django.contrib.auth import get_user_model
    from django.test import Client

    clients = {}
    for username in (dataset.learner, dataset.trainer):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        clients[username] = client
    return clients


def count_queries(dataset) -> dict:
    """Per page: SQL queries of one request (after a warm-up request), in-process; also HTML size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = _clients(dataset)
    counts = {}
    for page in pages_for(dataset):
        client = clients[page["user"]]
        client.get(page["path"])
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page["path"])
        _check(page, response)
        counts[page["key"]] = {
            "queries": len(captured),
            "html_kb": round(len(response.content) / 1024, 1),
            "sql": [q["sql"] for q in captured.captured_queries],
        }
    return counts


def time_in_process(dataset, repeat: int = 5) -> dict:
    """Per page: median wall time and SQL time of one request served in this process (no HTTP, no gunicorn)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = _clients(dataset)
    timings = {}
    for page in pages_for(dataset):
        client = clients[page["user"]]
        client.get(page["path"])
        totals, sql = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(page["path"])
                totals.append(time.perf_counter() - began)
            _check(page, response)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries))
        total_ms, sql_ms = statistics.median(totals) * 1000, statistics.median(sql) * 1000
        timings[page["key"]] = {
            "total_ms": round(total_ms, 1),
            "sql_ms": round(sql_ms, 1),
            "python_ms": round(total_ms - sql_ms, 1),
        }
    return timings


def profile_page(dataset, key: str, repeat: int = 5) -> dict:
    """cProfile `repeat` in-process requests of one page; the full listing goes to bench/results/."""
    page = next(p for p in pages_for(dataset) if p["key"] == key)
    client = _clients(dataset)[page["user"]]
    client.get(page["path"])
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(page["path"])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    path = RESULTS / f"profile-{key}.txt"
    path.write_text(out.getvalue())
    top = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:8]
    return {
        "file": str(path.relative_to(ROOT)),
        "total_ms": round(stats.total_tt / repeat * 1000, 1),
        "breakdown_ms": {
            name: round(_cumulative(stats, file, function) / repeat * 1000, 1) for name, file, function in PROFILE_PARTS
        },
        "top_self_time": [
            {"function": f"{_short(file)}:{line}({name})", "ms_per_request": round(tt / repeat * 1000, 1)}
            for (file, line, name), (_cc, _nc, tt, _ct, _callers) in top
        ],
    }


# Named parts of a request's time: (name, file the function is in, function name); the largest cumulative
# time among matching entries (the outermost call when the function recurses, as template rendering does).
PROFILE_PARTS = [
    ("template", "django/template/base.py", "render"),
    ("reverse", "django/urls/base.py", "reverse"),
    ("session_when", "seminars/templatetags/seminar_time.py", "session_when"),
    ("orm", "django/db/models/sql/compiler.py", "execute_sql"),
    ("sql", "django/db/backends/utils.py", "_execute"),
    ("models", "django/db/models/base.py", "__init__"),
]


def _cumulative(stats: pstats.Stats, file: str, function: str) -> float:
    times = [
        ct
        for (f, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
        if f.endswith(file) and name == function
    ]
    return max(times, default=0.0)


def _short(file: str) -> str:
    file = file.replace(str(ROOT) + "/", "")
    return re.sub(r"^.*/site-packages/", "", file)


def _check(page, response):
    if response.status_code != 200 or page["expect"].encode() not in response.content:
        raise SystemExit(
            f"{page['label']} ({page['path']}) answered {response.status_code} without "
            f"{page['expect']!r}: the benchmark would measure the wrong page."
        )


def small_size_counts() -> dict:
    """Query counts on a 100-session dataset, in a transaction that is rolled back."""
    from django.db import transaction

    from bench.dataset import dataset_load

    with transaction.atomic():
        small = dataset_load(**SMALL_DATASET)
        counts = count_queries(small)
        transaction.set_rollback(True)
    return {"dataset": vars(small), "counts": counts}


# ---- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(args, env: dict, port: int, log_path: Path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "lms.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    log = log_path.open("w")
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process


def gunicorn_wait(process: subprocess.Popen, port: int, workers: int, log_path: Path, timeout: float = 60) -> None:
    """Until every worker answers (each worker imports Django on its own)."""
    import http.client

    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/minimal/")
            if conn.getresponse().status == 200:
                answered += 1
                if answered >= workers * 4 and len(child_pids(process.pid)) >= workers:
                    return
            conn.close()
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def gunicorn_up(args, env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    """Start gunicorn on a free port and wait for its workers."""
    try:
        return _gunicorn_try(args, env, log_path)
    except SystemExit:
        # Another program may have taken the port between choosing it and gunicorn binding it.
        return _gunicorn_try(args, env, log_path)


def _gunicorn_try(args, env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    print(f"Starting gunicorn on 127.0.0.1:{port} ({args.workers} {args.worker_class} workers) ...", flush=True)
    process = gunicorn_start(args, env, port, log_path)
    try:
        gunicorn_wait(process, port, args.workers, log_path)
    except BaseException:
        gunicorn_stop(process)
        raise
    return process, port


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def login_cookie(port: int, username: str, password: str) -> str:
    """Sign in through the login form (CSRF token and all); the Cookie header for later requests."""
    import requests

    base = f"http://127.0.0.1:{port}"
    with requests.Session() as http:
        form = http.get(f"{base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if form.status_code != 200 or not token:
            raise SystemExit(f"The login page answered {form.status_code} without a CSRF token.")
        answer = http.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code != 302 or "sessionid" not in http.cookies:
            raise SystemExit(f"Signing in as {username} failed ({answer.status_code}).")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def measure(args, pages: list[dict], port: int, cookies: dict) -> dict:
    """Warm up, then interleaved rounds: every page gets seconds/rounds per round, under the same conditions."""
    per_round = args.seconds / args.rounds
    results = {page["key"]: LoadResult() for page in pages}
    for page in pages:
        run_load(
            host="127.0.0.1",
            port=port,
            path=page["path"],
            cookie=cookies[page["user"]],
            expect=page["expect"].encode(),
            concurrency=min(args.concurrency, args.warmup or 1),
            max_requests=args.warmup,
            seconds=30,
        )
    for round_number in range(args.rounds):
        for page in pages:
            result = run_load(
                host="127.0.0.1",
                port=port,
                path=page["path"],
                cookie=cookies[page["user"]],
                expect=page["expect"].encode(),
                concurrency=args.concurrency,
                max_requests=max(1, args.max_requests // args.rounds),
                seconds=per_round,
            )
            results[page["key"]].add(result)
            print(
                f"  round {round_number + 1}/{args.rounds} {page['label']:<26} {result.rps:8.1f} req/s "
                f"({result.requests} requests, {result.errors} errors)",
                flush=True,
            )
    return results


# ---- Report ----------------------------------------------------------------------------------


def summarise(pages, load, counts_small, counts_big, timings) -> list[dict]:
    minimal_rps = load["minimal"].rps
    rows = []
    for page in pages:
        result = load[page["key"]]
        share = result.rps / minimal_rps if minimal_rps else 0.0
        rows.append(
            {
                "key": page["key"],
                "label": page["label"],
                "path": page["path"],
                "requests": result.requests,
                "errors": result.errors,
                "error_samples": result.error_samples,
                "rps": round(result.rps, 1),
                "share_of_minimal": round(share, 3),
                "median_ms": round(result.median_ms, 1),
                "p95_ms": round(result.percentile_ms(95), 1),
                "queries_small": counts_small[page["key"]]["queries"],
                "queries_big": counts_big[page["key"]]["queries"],
                "html_kb": counts_big[page["key"]]["html_kb"],
                "in_process": timings[page["key"]],
                "meets_target": page["key"] == "minimal" or share >= THROUGHPUT_TARGET,
            }
        )
    return rows


def print_table(rows, memory) -> None:
    print()
    print(
        f"{'page':<26} {'req/s':>8} {'% min':>6} {'median':>8} {'p95':>8} {'SQL small/full':>14} {'HTML':>8} "
        f"{'errors':>6}"
    )
    for row in rows:
        print(
            f"{row['label']:<26} {row['rps']:>8.1f} {row['share_of_minimal'] * 100:>5.0f}% "
            f"{row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms {row['queries_small']:>7}/{row['queries_big']:<6} "
            f"{row['html_kb']:>6.0f}KB {row['errors']:>6}"
        )
    print()
    for worker in memory["workers"]:
        print(f"gunicorn worker {worker['pid']}: {worker['rss_mb']} MB resident (peak {worker['peak_rss_mb']} MB)")
    print(f"gunicorn master: {memory['master']['rss_mb']} MB resident")


def docs_pages_section(result: dict) -> str:
    s, d, small = result["settings"], result["dataset"], result["small_dataset"]
    rows = result["pages"]
    minimal = next(r for r in rows if r["key"] == "minimal")
    lines = [
        f"Measured {result['machine']['date']} on {describe(result['machine'])}.",
        "",
        f"Rerun: `{result['command']}` ({_duration(result['duration_s'])}; JSON under `bench/results/`).",
        "",
        f"Setup: PostgreSQL {result['postgres']} on the same machine; gunicorn {s['gunicorn']} with "
        f"{s['workers']} `{s['worker_class']}` workers (gunicorn's default class; one per CPU unless `--workers`)"
        + (f" of {s['threads']} threads" if s["worker_class"] == "gthread" else "")
        + f", DEBUG off, `bench.settings` (the LMS's settings plus `/bench/minimal/`, a view returning "
        '`HttpResponse(b"ok")` behind the same middleware). The client is `bench/httpload.py` on the same '
        f"machine (so it competes for the same CPUs): {s['concurrency']} threads, each sending its next request "
        f"when the last is answered, {s['rounds']} interleaved round(s) over all pages, {s['seconds']:.0f} s and at "
        f"most {s['max_requests']} requests per page after {s['warmup']} warm-up requests. Logged in through the "
        "login form. Latency is measured at the client, so it includes queueing for a free worker.",
        "",
        f"Data (`bench/dataset.py`): one course, one seminar of {d['events']} events x {d['sessions_per_event']} "
        f"sessions = {d['sessions']} sessions, {d['bookings']} bookings ({d['events']} learners, 5 trainers); "
        f"the learner is booked on {d['learner_booked_sessions']} upcoming sessions, the trainer teaches all "
        f"{d['sessions']}. The measured event has {d['sessions_per_event']} sessions in a Zoom room (meetings "
        f"available) and {d['signups_per_event']} signups. SQL queries are counted in-process, one request per "
        f"page, on this dataset and on a small one ({small['events']} events x {small['sessions_per_event']} "
        f"session, {small['signups_per_event']} signups each: {small['sessions']} sessions, {small['bookings']} "
        "bookings), rolled back before the full load.",
        "",
        f"Target: each page at least {THROUGHPUT_TARGET:.0%} of the minimal view's throughput "
        f"({minimal['rps'] * THROUGHPUT_TARGET:.0f} req/s here), and a constant number of SQL queries per page.",
        "",
        f"| page | req/s | % of minimal | median | p95 | SQL queries ({small['sessions']} / {d['sessions']} sessions) "
        "| HTML | "
        "in-process: total / SQL | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        ip = row["in_process"]
        queries = f"{row['queries_small']} / {row['queries_big']}"
        constant = "" if row["queries_small"] == row["queries_big"] else " (grows)"
        if row["key"] == "minimal":
            verdict = "baseline"
        elif row["meets_target"] and not constant:
            verdict = "met"
        else:
            verdict = _verdict_missed(row, minimal, constant)
        lines.append(
            f"| {row['label']} | {row['rps']:.1f} | {row['share_of_minimal'] * 100:.0f}% | {row['median_ms']:.0f} ms "
            f"| {row['p95_ms']:.0f} ms | {queries}{constant} | {row['html_kb']:.0f} KB | "
            f"{ip['total_ms']:.0f} / {ip['sql_ms']:.0f} ms | {verdict} |"
        )
    errors = sum(r["errors"] for r in rows)
    lines += ["", f"Errors (non-200 or wrong page) during the load: {errors}."]
    profiles = result.get("profiles") or {}
    if profiles:
        lines += [
            "",
            "Where the time goes in the pages that missed: cProfile, in-process, milliseconds per request "
            "(cProfile slows Python code more than SQL, so read the shares, not the totals; parts overlap: "
            "URL reversing and the time tag run inside template rendering):",
            "",
            "| page | profiled total | template rendering | of it: `{% url %}`/reverse | of it: `session_when` "
            "| ORM queries (build + SQL) | of it: SQL round trips | model instances |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, profile in profiles.items():
            label = next(r["label"] for r in rows if r["key"] == key)
            parts = profile["breakdown_ms"]
            lines.append(
                f"| {label} | {profile['total_ms']:.0f} | "
                + " | ".join(f"{parts[name]:.0f}" for name, _file, _function in PROFILE_PARTS)
                + " |"
            )
        lines += ["", "Full listings: " + ", ".join(f"`{p['file']}`" for p in profiles.values()) + "."]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"took {seconds:.0f} s" if seconds < 90 else f"took {seconds / 60:.1f} minutes"


def _verdict_missed(row, minimal, constant) -> str:
    needed = minimal["rps"] * THROUGHPUT_TARGET
    parts = []
    if not row["meets_target"]:
        parts.append(
            f"missed: {row['rps']:.1f} of {needed:.0f} req/s needed ({needed / row['rps']:.1f}x short)"
            if row["rps"]
            else "missed: no answers"
        )
    if constant:
        parts.append("query count grows with the data")
    return "; ".join(parts)


def docs_memory_section(result: dict) -> str:
    memory = result["memory"]
    worst = max(w["rss_mb"] for w in memory["workers"])
    verdict = "met" if worst < WEB_RSS_TARGET_MB else f"missed by {worst - WEB_RSS_TARGET_MB:.0f} MB"
    lines = [
        f'Measured {result["machine"]["date"]} on the same machine and run as "Pages" above '
        f"(`{result['command']}`): VmRSS from `/proc/<pid>/status` of each gunicorn worker right after the "
        "page load, i.e. after serving every measured page (including the 1,000-session pages) many times.",
        "",
        f"Target: a web process under {WEB_RSS_TARGET_MB} MB resident.",
        "",
        "| process | resident (VmRSS) | peak (VmHWM) |",
        "|---|---:|---:|",
    ]
    for worker in memory["workers"]:
        lines.append(
            f"| gunicorn worker (pid {worker['pid']}) | {worker['rss_mb']:.0f} MB | {worker['peak_rss_mb']:.0f} MB |"
        )
    master = memory["master"]
    lines.append(
        f"| gunicorn master (does not serve requests) | {master['rss_mb']:.0f} MB | {master['peak_rss_mb']:.0f} MB |"
    )
    lines += ["", f"Largest worker: {worst:.0f} MB, target {verdict}."]
    return "\n".join(lines)


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


# ---- Main ------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    env = configure_environment(args.database_url)
    database_ensure(args.database_url)
    print("Migrating, emptying the benchmark database ...", flush=True)
    django_prepare()

    from django.db import connections

    from bench.dataset import PASSWORD, dataset_load

    print(f"Counting queries on a small dataset (rolled back): {SMALL_DATASET} ...", flush=True)
    small = small_size_counts()
    print(f"Loading {args.events * 2} sessions, {args.events * 10} bookings ...", flush=True)
    dataset = dataset_load(events=args.events)
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
            f"Load: {args.concurrency} client threads, {args.rounds} rounds, {args.seconds:.0f} s per page ...",
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
            "seconds": args.seconds,
            "rounds": args.rounds,
            "max_requests": args.max_requests,
            "warmup": args.warmup,
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
