"""Meetings created per second against Zoom's per-second limit, with 1, 2 and 4 worker processes.

    .venv/bin/python bench/sync_throughput.py               # 300 meetings per run, about two minutes
    .venv/bin/python bench/sync_throughput.py --meetings 600 --workers 1 2 4 8 --no-docs

One run, loopback only: a fresh PostgreSQL database of its own (default `lms_conv`,
dropped and created), a private redis-server (default port 6390) as the broker and
cache, the Zoom simulator as a process (the Pro plan: 20 creates per second per
account, counted in whole seconds of its clock), and Celery worker processes with the
product's own settings, each `--pool=solo` (one task at a time).

For each worker count: with no worker running, `event_save` creates `--meetings`
sessions (events of 10 sessions in ad-hoc "Zoom Meeting" rooms) for 4 trainers of
the seeded Zoom account (4 Zoom users: under their 100 creates a day), so the tasks
wait in Redis; then the workers start and the script waits until every meeting is
available. The rate comes from the simulator's request log: successful creates from
the moment every worker was ready to the last create (and over the whole run), the
busiest second, and every 429 the simulator answered. After each run the resident
memory (VmRSS) of each worker is read from /proc.

Writes bench/results/sync-throughput-*.json and the "Sync throughput" and "Memory
(worker)" sections of docs/benchmarks.md (unless --no-docs). Targets (issue 5): at
least 90% of the limit with 4 workers and no 429; a worker under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.harness import (  # noqa: E402
    ROOT,
    Stack,
    course_with_trainers,
    cpu_seconds,
    machine_cpu,
    one_session_event,
    wait_until,
)
from bench.machine import describe, machine_info, rss_mb  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"
TRAINERS_PER_RUN = 4
SESSIONS_PER_EVENT = 10
TARGET_SHARE = 0.9
TARGET_WORKER_MB = 150


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=300, help="meetings created in each run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts, one run each")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/lms_conv",
        help="a database of this run's own: it is dropped and created",
    )
    parser.add_argument("--redis-port", type=int, default=6390, help="port of the private redis-server")
    parser.add_argument("--timeout", type=float, default=300, help="give up on a run after this many seconds")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.meetings > TRAINERS_PER_RUN * 95:
        parser.error(f"--meetings at most {TRAINERS_PER_RUN * 95}: each Zoom user may create 100 meetings a day")
    return args


def limits_configured(stack) -> dict:
    from virtualmeeting.models import ProviderConfig
    from virtualmeeting_zoom.options import zoom_options

    options = zoom_options(ProviderConfig.objects.get(provider="zoom"))
    sim = stack.sim.admin.limits()["per_second"]["pro"]
    return {
        "simulator_create_per_second": sim["Medium"],
        "simulator_light_per_second": sim["Light"],
        "product_plan": options["plan"],
        "product_create_per_second": options["create_per_second"],
        "product_light_per_second": options["light_per_second"],
    }


def create_waiting_meetings(seminar, trainers, count: int, base: datetime) -> list[int]:
    """`count` sessions in Zoom rooms (their tasks wait in Redis: no worker runs). Returns the meeting ids."""
    from virtualmeeting.models import VirtualMeeting

    before = set(VirtualMeeting.objects.values_list("pk", flat=True))
    made, number = 0, 0
    while made < count:
        size = min(SESSIONS_PER_EVENT, count - made)
        trainer = trainers[number % len(trainers)]
        one_session_event(
            seminar=seminar,
            trainer=trainer,
            start=base + timedelta(days=made),
            sessions=size,
            name=f"Throughput {base:%H%M%S} {number + 1}",
        )
        made += size
        number += 1
    return sorted(set(VirtualMeeting.objects.values_list("pk", flat=True)) - before)


def one_run(stack, seminar, trainers, *, workers: int, meetings: int, timeout: float) -> dict:
    from virtualmeeting.models import VirtualMeeting

    base = (datetime.now(UTC) + timedelta(days=2 + 400 * workers)).replace(minute=0, second=0, microsecond=0)
    ids = create_waiting_meetings(seminar, trainers, meetings, base)
    log_before = max((entry["seq"] for entry in stack.sim.requests_log()), default=0)
    sim_cpu_before, machine_before = cpu_seconds(stack.sim.process.pid), machine_cpu()
    began = time.time()
    processes = stack.workers.start(workers)
    ready = time.time()
    workers_cpu_ready = sum(cpu_seconds(process.pid) for process in processes)  # start-up: imports, connections

    def done():
        return VirtualMeeting.objects.filter(pk__in=ids, status="available").count() == len(ids)

    wait_until(done, timeout=timeout, what=f"{len(ids)} meetings with {workers} workers", interval=0.2)
    finished = time.time()
    memory = {process.pid: rss_mb(process.pid) for process in processes}
    workers_cpu = sum(cpu_seconds(process.pid) for process in processes) - workers_cpu_ready
    sim_cpu = cpu_seconds(stack.sim.process.pid) - sim_cpu_before
    machine_after = machine_cpu()
    machine_busy = (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
    stack.workers.stop_all()
    log = stack.sim.admin.requests(since=log_before)
    creates = sorted(entry["time"] for entry in log if entry["route"] == "meetings.create" and entry["status"] == 201)
    after_ready = [moment for moment in creates if moment >= ready]
    busiest = max(
        (sum(1 for moment in creates if int(moment) == second) for second in {int(m) for m in creates}), default=0
    )
    span_all = creates[-1] - creates[0] if len(creates) > 1 else 0
    span_ready = after_ready[-1] - ready if after_ready else 0
    return {
        "workers": workers,
        "meetings": len(ids),
        "creates_201": len(creates),
        "per_second_all_ready": round(len(after_ready) / span_ready, 2) if span_ready else 0.0,
        "creates_after_ready": len(after_ready),
        "per_second_first_to_last": round((len(creates) - 1) / span_all, 2) if span_all else 0.0,
        "busiest_second": busiest,
        "answers_429": sum(1 for entry in log if entry["status"] == 429),
        "other_errors": sum(1 for entry in log if str(entry["status"])[0] not in "23" and entry["status"] != 429),
        "start_to_ready_s": round(ready - began, 2),
        "ready_to_done_s": round(finished - ready, 2),
        "worker_memory": memory,
        # CPU per successful create, and how busy the whole machine was (all CPUs, all processes, ours or not).
        "worker_cpu_ms_per_create": round(workers_cpu / max(1, len(after_ready)) * 1000, 1),
        "simulator_cpu_ms_per_create": round(sim_cpu / max(1, len(creates)) * 1000, 1),
        "machine_busy": round(machine_busy, 2),
        "seconds_with_429": sorted({int(entry["time"]) for entry in log if entry["status"] == 429}),
        "creates_in_seconds_with_429": [
            sum(1 for moment in creates if int(moment) == second)
            for second in sorted({int(e["time"]) for e in log if e["status"] == 429})
        ],
    }


def docs_throughput(result: dict) -> str:
    limit = result["limits"]["simulator_create_per_second"]
    lines = [
        f"Measured {result['machine']['date']} on {describe(result['machine'])}.",
        "",
        f"Rerun: `{result['command']}` (PostgreSQL at `--database-url`, a database of its own that is dropped and "
        "created; `redis-server` on the PATH; about two minutes).",
        "",
        f"The limit: the simulator's Pro plan allows {limit} creates per second per account (Zoom's \"Medium\" "
        f"category, counted per whole second of its clock); the product is configured for the "
        f"`{result['limits']['product_plan']}` plan and paces creates at "
        f"{result['limits']['product_create_per_second']} per second per account with a token bucket in Redis shared "
        f"by all workers. Each run: {result['meetings']} meetings of 4 trainers (4 Zoom users of one account) queued "
        "in Redis with no worker running, then N worker processes (`--pool=solo`, one task at a time each, the "
        "product's settings) started together. Rates come from the simulator's request log.",
        "",
        "| workers | creates/s once all workers were ready | share of the limit | creates/s, first to last "
        "| busiest second | 429s | other errors | worker CPU per create | simulator CPU per create "
        "| machine busy (all CPUs) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['workers']} | {run['per_second_all_ready']:.1f} | "
            f"{run['per_second_all_ready'] / limit:.0%} | {run['per_second_first_to_last']:.1f} | "
            f"{run['busiest_second']} | {run['answers_429']} | {run['other_errors']} | "
            f"{run['worker_cpu_ms_per_create']:.0f} ms | {run['simulator_cpu_ms_per_create']:.1f} ms | "
            f"{run['machine_busy']:.0%} |"
        )
    four = next((run for run in result["runs"] if run["workers"] == 4), None)
    if four is not None:
        share = four["per_second_all_ready"] / limit
        rate_met, quiet = share >= TARGET_SHARE, four["answers_429"] == 0
        lines += [
            "",
            f"Target: at least {TARGET_SHARE:.0%} of the limit with 4 workers and no 429: "
            f"**{'met' if rate_met and quiet else 'missed'}**: the rate {'met' if rate_met else 'missed'} "
            f"({share:.0%} of the limit), no 429 {'met' if quiet else 'missed'} "
            f"({four['answers_429']} 429s).",
        ]
    return "\n".join(lines)


def docs_memory(result: dict) -> str:
    lines = [
        f"Measured {result['machine']['date']} on {describe(result['machine'])}.",
        "",
        f"Rerun: `{result['command']}` (the throughput runs; `bench/sync_latency.py` and `bench/convergence.py` "
        "print their workers' memory too).",
        "",
        "Resident memory (VmRSS, and the peak VmHWM, from /proc) of each Celery worker process (`--pool=solo`: "
        "the process that runs the tasks) right after it finished its run, before it was stopped.",
        "",
        "| run | worker | resident | peak |",
        "|---|---|---|---|",
    ]
    worst = 0.0
    for run in result["runs"]:
        for number, memory in enumerate(run["worker_memory"].values(), start=1):
            worst = max(worst, memory["rss_mb"])
            lines.append(
                f"| {run['workers']} workers, {run['meetings']} creates | {number} | "
                f"{memory['rss_mb']:.0f} MB | {memory['peak_rss_mb']:.0f} MB |"
            )
    met = worst < TARGET_WORKER_MB
    lines += [
        "",
        f"Target: a worker under {TARGET_WORKER_MB} MB resident: **{'met' if met else 'missed'}** "
        f"(largest {worst:.0f} MB).",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    machine = machine_info()
    workdir = ROOT / "var" / "bench" / f"sync-throughput-{stamp}"
    users = TRAINERS_PER_RUN * len(args.workers)
    runs = []
    with Stack(workdir=workdir, database_url=args.database_url, redis_port=args.redis_port, sim_users=users) as stack:
        seminar, trainers = course_with_trainers(users)
        stack.connect(trainers)
        limits = limits_configured(stack)
        print(f"Limits: {limits}", flush=True)
        for position, count in enumerate(args.workers):
            mine = trainers[position * TRAINERS_PER_RUN : (position + 1) * TRAINERS_PER_RUN]
            run = one_run(stack, seminar, mine, workers=count, meetings=args.meetings, timeout=args.timeout)
            runs.append(run)
            print(
                f"{count} workers: {run['per_second_all_ready']} creates/s once ready "
                f"({run['per_second_first_to_last']} first to last), busiest second {run['busiest_second']}, "
                f"429s {run['answers_429']}, other errors {run['other_errors']}, memory {run['worker_memory']}",
                flush=True,
            )
    command = ".venv/bin/python bench/sync_throughput.py"
    if args.meetings != 300:
        command += f" --meetings {args.meetings}"
    if args.workers != [1, 2, 4]:
        command += " --workers " + " ".join(str(count) for count in args.workers)
    result = {"machine": machine, "command": command, "meetings": args.meetings, "limits": limits, "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sync-throughput-{stamp}.json").write_text(json.dumps(result, indent=2))
    if not args.no_docs:
        section_write(DOCS, "Sync throughput", "sync-throughput", docs_throughput(result))
        section_write(DOCS, "Memory (worker)", "memory-worker", docs_memory(result))
        print(f'Wrote the "Sync throughput" and "Memory (worker)" sections of {DOCS.relative_to(ROOT)}.')
    return 0


if __name__ == "__main__":
    sys.exit(main())
