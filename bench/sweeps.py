"""Background work at scale: the periodic jobs of Celery beat with 1,000, 10,000 and 100,000 meetings in the table.

    .venv/bin/python bench/sweeps.py                      # about five minutes on 2 CPUs
    .venv/bin/python bench/sweeps.py --sizes 1000 --runs 3 --no-docs

For each size, one run:
1. drops and creates its own PostgreSQL database (default lms_bench_sweeps; the name must contain
   "bench"), migrates it and fills it (bench/sweeps_data.py: history in sync, the same due work at
   every size), then ANALYZE;
2. runs each periodic job as beat would (the task's own function, in this process) `--runs` times, each
   inside a transaction rolled back afterwards so every run sees the same rows; the tasks a job queues
   go to an in-memory broker (memory://, not eager): they are queued, never run;
3. captures each job's SQL (CaptureQueriesContext) and runs EXPLAIN (ANALYZE, BUFFERS) on every SELECT
   it made, from the same starting rows: the plan's scans (Seq Scan or an index), the rows they read and
   the time;
4. prints job x size -> median time, queries, rows read; writes bench/results/sweeps-<date>.json (the
   plans included) and the "Background work at scale" section of docs/benchmarks.md.

The due work is the same at every size, so a job whose time or rows read grow with the size reads the
table, not the work. Compare the rows read and the plans first: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.harness import database_recreate, run_keys  # noqa: E402
from bench.machine import describe, machine_info  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lms_bench_sweeps"
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
SIZES = (1_000, 10_000, 100_000)
SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time the periodic jobs (sweep, reconcilers, reminders) at growing table sizes, with plans.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SWEEPS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database of the run, dropped and created for each size; env SWEEPS_DATABASE_URL",
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="meetings in the table, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each job (the median is reported)")
    parser.add_argument("--baseline", type=Path, help="an earlier results JSON, shown as 'before' in the docs")
    parser.add_argument("--output", type=Path, help="results JSON (default bench/results/sweeps-<date>.json)")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


def check_database_name(database_url: str) -> None:
    import dj_database_url

    name = dj_database_url.parse(database_url)["NAME"]
    if "bench" not in name:
        # A DATABASE_URL exported for development must never be dropped by a benchmark run.
        raise SystemExit(f"bench/sweeps.py drops its database, so its name must contain 'bench' (got {name!r}).")


def configure_environment(database_url: str) -> None:
    """Production-like settings; tasks go to an in-memory broker (queued, never run); the cache in memory."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "lms.settings",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "0",
            "DEBUG": "0",
            **run_keys(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "CELERY_BROKER_URL": "memory://",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "REDIS_URL": "",
            "LMS_VAR_DIR": str(ROOT / "var" / "bench"),
            "LOG_LEVEL": "WARNING",
        }
    )


# ---- The jobs --------------------------------------------------------------------------------


def jobs() -> dict:
    """The periodic work of lms.settings.CELERY_BEAT_SCHEDULE, by name: the functions the beat tasks run."""
    from seminars.approval_tasks import approval_requests_expire_task
    from seminars.tasks import emails_requeue_task, meetings_reconcile_task, minimum_warnings_task, reminders_queue_task
    from virtualmeeting.reconcile import participants_sweep
    from virtualmeeting.sync import meeting_sweep

    # virtualmeeting.tasks.meeting_sweep is meeting_sweep then participants_sweep: measured apart.
    return {
        "meeting_sweep": meeting_sweep,
        "participants_sweep": participants_sweep,
        "meetings_reconcile": meetings_reconcile_task,
        # Beat's daily run over every meeting, the history too: the one job that reads the table, once a day.
        "meetings_reconcile_daily": partial(meetings_reconcile_task, finished_too=True),
        "reminders_queue": reminders_queue_task,
        "minimum_warnings": minimum_warnings_task,
        "requests_expire": approval_requests_expire_task,
        "emails_requeue": emails_requeue_task,
    }


class _Rollback(Exception):
    pass


def run_rolled_back(function, *, send: bool = True):
    """Run `function` and its on-commit callbacks (the queueing; dropped when not `send`) in a transaction, then
    roll it all back. Returns (result, seconds, captured queries, callbacks: the tasks queued)."""
    from django.db import connection, reset_queries, transaction
    from django.test import TestCase
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log keeps the last 9,000 queries: a capture must start with it empty
    outcome = {}
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                with TestCase.captureOnCommitCallbacks(execute=send) as callbacks:
                    outcome["result"] = function()
                outcome["seconds"] = time.perf_counter() - began
            raise _Rollback
    except _Rollback:
        pass
    return outcome["result"], outcome["seconds"], list(captured.captured_queries), len(callbacks)


def is_select(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def explain(sqls: list[str]) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) each SELECT from the rows as they were before the job, rolled back."""
    from django.db import connection, transaction

    plans = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in sqls:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql.replace("%", "%%"))
                plans.append(plan_summary(sql, cursor.fetchone()[0][0]))
            raise _Rollback
    except _Rollback:
        pass
    return plans


def plan_summary(sql: str, plan: dict) -> dict:
    """What a plan read: its scans (node, relation, index, rows read), rows read in all, buffers, time."""
    scans = []

    def walk(node):
        if node["Node Type"] in SCANS:
            loops = node.get("Actual Loops", 1)
            read = (
                node.get("Actual Rows", 0)
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            ) * loops
            scans.append(
                {
                    "node": node["Node Type"],
                    "relation": node.get("Relation Name", ""),
                    "index": node.get("Index Name", ""),
                    "rows_read": int(read),
                }
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    buffers = plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
    return {
        "sql": sql[:2000],
        "time_ms": round(plan.get("Execution Time", 0.0), 3),
        "rows_read": sum(scan["rows_read"] for scan in scans),
        "buffers": buffers,
        "scans": scans,
    }


def measure_job(function, *, runs: int, send: bool = True) -> dict:
    """Time a job (median of `runs` rolled-back runs after one warm-up) and explain its SELECTs."""
    result, _, queries, callbacks = run_rolled_back(function, send=send)  # warm-up; its SQL is explained
    times = [run_rolled_back(function, send=send)[1] for _ in range(runs)]
    plans = explain([q["sql"] for q in queries if is_select(q["sql"])])
    return {
        "result": result if isinstance(result, int) else None,
        "on_commit": callbacks,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "times_ms": [round(t * 1000, 2) for t in times],
        "queries": len(queries),
        "rows_read": sum(plan["rows_read"] for plan in plans),
        "seq_scans": sorted(
            {scan["relation"] for plan in plans for scan in plan["scans"] if scan["node"] == "Seq Scan"}
        ),
        "plans": plans,
    }


# ---- One size --------------------------------------------------------------------------------


def prepare(database_url: str, meetings: int) -> dict:
    import django
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    database_recreate(database_url)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from bench.sweeps_data import fill

    return fill(meetings)


def run_size(database_url: str, meetings: int, *, runs: int) -> dict:
    began = time.perf_counter()
    counts = prepare(database_url, meetings)
    print(f"{meetings:,} meetings: filled in {time.perf_counter() - began:.1f} s {counts}", flush=True)
    measured = {}
    for name, function in jobs().items():
        measured[name] = measure_job(function, runs=runs)
        row = measured[name]
        print(
            f"  {name:<20} {row['median_ms']:9.1f} ms  {row['queries']:4} queries  {row['rows_read']:8} rows read"
            f"  seq scans: {', '.join(row['seq_scans']) or '-'}",
            flush=True,
        )
    return {"meetings": meetings, "counts": counts, "jobs": measured}


# ---- Report ----------------------------------------------------------------------------------


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    return f"{row['median_ms']:,.1f} ms, {row['queries']} q, {row['rows_read']:,} rows"


def docs_section(results: dict, baseline: dict | None = None) -> str:
    sizes = [size["meetings"] for size in results["sizes"]]
    by_size = {size["meetings"]: size["jobs"] for size in results["sizes"]}
    before = {size["meetings"]: size["jobs"] for size in (baseline or {}).get("sizes", [])}
    lines = [
        f"Measured {results['machine']['date']} on {describe(results['machine'])}; PostgreSQL "
        f"{results['postgres']}. Rerun: `.venv/bin/python bench/sweeps.py` (see `bench/README.md`).",
        "",
        "Each periodic job of Celery beat run as beat runs it, in one process, against a table of N meetings "
        "(`bench/sweeps_data.py`: history in sync, and the same due work at every size: 300 meetings to sync, "
        "50 pre-start checks, 400 registrants, 60 finished meetings to poll, 10 orphans, 10 reminders and "
        "minimum warnings, 10 expired requests). Median of "
        f"{results['runs']} runs, each rolled back; tasks are only queued (memory:// broker). Cell: median time, "
        "queries, rows read by the scans of every SELECT (EXPLAIN ANALYZE). Time proportional to the due work, "
        "not to the table, shows as the same rows read in every column.",
        "",
        "| job | " + " | ".join(f"{size:,} meetings" for size in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in by_size[sizes[0]]:
        cells = []
        for size in sizes:
            now = _cell(by_size[size].get(name))
            old = before.get(size, {}).get(name)
            cells.append(f"{now} (before: {_cell(old)})" if old else now)
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    largest = sizes[-1]
    lines += [
        "",
        f"Plans at {largest:,} meetings: each SELECT's scans (rows read), `Seq Scan` on a big table is "
        "the cost that grows with it; the whole plans are in the results JSON.",
        "",
    ]
    for name, row in by_size[largest].items():
        costly = sorted(row["plans"], key=lambda plan: plan["rows_read"], reverse=True)[:2]
        for plan in costly:
            read = [scan for scan in plan["scans"] if scan["rows_read"]]  # a scan that read nothing says little
            scans = ", ".join(
                f"{scan['node']}{' using ' + scan['index'] if scan['index'] else ''} on {scan['relation']} "
                f"({scan['rows_read']:,})"
                for scan in read[:6]
            ) + (f", and {len(read) - 6} more" if len(read) > 6 else "")
            lines.append(f"- `{name}` ({plan['time_ms']:.2f} ms): {scans or 'no table read'}")
    return "\n".join(lines)


def print_table(results: dict) -> None:
    for size in results["sizes"]:
        print(f"\n{size['meetings']:,} meetings")
        for name, row in size["jobs"].items():
            print(f"  {name:<20} {_cell(row)}")


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def main(argv=None) -> int:
    args = parse_args(argv)
    check_database_name(args.database_url)
    configure_environment(args.database_url)
    machine = machine_info()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    results = {"machine": machine, "runs": args.runs, "sizes": []}
    try:
        for meetings in sizes:
            results["sizes"].append(run_size(args.database_url, meetings, runs=args.runs))
            results.setdefault("postgres", postgres_version())
    finally:
        from django.db import connections

        connections.close_all()
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = args.output or RESULTS / f"sweeps-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    output.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nResults: {output}")
    if not args.no_docs:
        baseline = json.loads(args.baseline.read_text()) if args.baseline else None
        section_write(DOCS, "Background work at scale", "sweeps", docs_section(results, baseline))
        print(f"Docs: {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
