"""Registering 1,000 learners on one Zoom meeting, then cancelling 300, against Zoom's per-second limits.

    .venv/bin/python bench/registrants.py                     # 1,000 registered, 300 cancelled; about a minute
    .venv/bin/python bench/registrants.py --people 40 --cancel 12 --no-docs --json out.json

One run, loopback only: a fresh PostgreSQL database of its own (default
`lms_bench_registrants`, dropped and created), a private redis-server (default port
6391) as the broker and cache, the Zoom simulator as a process (the Pro plan: per
second and account, Heavy 10, Medium 20, Light 30, counted in whole seconds of its
clock), and `--workers` Celery worker processes with the product's own settings.

A trainer connects a licensed (Pro) Zoom user through the product's OAuth flow and
saves an event with one session in an ad-hoc "Zoom Meeting" room (`event_save`);
the worker creates the meeting, which requires registration. Then two phases:

1. register: `registrants_set` gives the meeting `--people` people in one
   transaction (what the seminars app does for an event's seats); after commit the
   worker registers them in Zoom's batches of 30 (`batch_registrants`, Heavy);
2. cancel: `registrants_set` again without the first `--cancel` of them; the worker
   cancels their registrations, 30 a call (`registrants/status`, Medium).

Each phase is timed from the commit to the last row done (polled every 50 ms) and
reports, from the simulator's request log, the calls by endpoint and rate-limit
label, the busiest whole second of each label against the plan's limit, and every
429. Then the simulator's own records are checked: each wanted person is an approved
registrant exactly once, with the id and personal link stored on their row; each
cancelled one is cancelled; nobody else registered; and Zoom sent no email.

Writes bench/results/registrants-*.json and the "Registrants" section of
docs/benchmarks.md (unless --no-docs). Target (issue 9): no 429 provoked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchmarks_doc import section_write  # noqa: E402
from bench.harness import ROOT, Stack, course_with_trainers, one_session_event, wait_until  # noqa: E402
from bench.machine import describe, machine_info, rss_mb  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"
POLL_SECONDS = 0.05
LABELS = ("Heavy", "Medium", "Light")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000, help="people registered on the meeting")
    parser.add_argument("--cancel", type=int, default=300, help="of them, cancelled in the second phase")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (solo pool each)")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/lms_bench_registrants",
        help="a database of this run's own: it is dropped and created",
    )
    parser.add_argument("--redis-port", type=int, default=6391, help="port of the private redis-server")
    parser.add_argument("--timeout", type=float, default=300, help="give up on a phase after this many seconds")
    parser.add_argument("--workdir", type=Path, help="logs and the simulator's file (default var/bench/registrants-*)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not 0 <= args.cancel <= args.people:
        parser.error("--cancel must be between 0 and --people")
    return args


def labels_of_routes() -> dict[str, str]:
    """The simulator's rate-limit label of each route (the OpenAPI spec's), to group its request log by."""
    from simulators.zoom.meetings import CATEGORY

    return dict(CATEGORY)


def limits_configured(stack) -> dict:
    """The plan's per-second limit of each label at the simulator, and the rate the product paces each at."""
    from virtualmeeting.models import ProviderConfig
    from virtualmeeting_zoom.limits import RATE_MARGIN
    from virtualmeeting_zoom.options import zoom_options

    options = zoom_options(ProviderConfig.objects.get(provider="zoom"))
    simulator = stack.sim.admin.limits()["per_second"]["pro"]
    product = {
        "Heavy": options["heavy_per_second"],
        "Medium": options["create_per_second"],
        "Light": options["light_per_second"],
    }
    return {
        "product_plan": options["plan"],
        "simulator": {label: simulator[label] for label in LABELS},
        "product": product,
        "product_pace": {label: round(float(rate) * RATE_MARGIN, 2) for label, rate in product.items()},
    }


def people(count: int) -> list:
    from virtualmeeting.services import RegistrantPerson

    return [
        RegistrantPerson(key=f"learner:{n}", first_name=f"Learner {n:04d}", last_name="Bench")
        for n in range(1, count + 1)
    ]


def meeting_ready(event, *, timeout: float):
    """The event's meeting, once it exists at Zoom and requires registration."""
    from virtualmeeting.models import VirtualMeeting

    def ready():
        meeting = VirtualMeeting.objects.filter(reference__startswith=f"seminars.event:{event.pk}:").first()
        return meeting if meeting is not None and meeting.takes_registrants else None

    return wait_until(ready, timeout=timeout, what="the Zoom meeting to be created with registration on")


def registrants_set_timed(reference: str, wanted: list) -> float:
    """`registrants_set` in one transaction, as the owning app calls it. Returns the seconds it took."""
    from django.db import transaction

    from virtualmeeting.services import registrants_set

    began = time.perf_counter()
    with transaction.atomic():
        registrants_set(reference=reference, people=wanted)
    return time.perf_counter() - began


def wait_rows(meeting_id: int, *, status: str, keys: set[str], timeout: float) -> float:
    """Poll until every row of `keys` has `status`; a failed or unsupported row stops the run at once."""
    from virtualmeeting.models import MeetingRegistrant

    rows = MeetingRegistrant.objects.filter(meeting_id=meeting_id, key__in=keys)
    deadline = time.perf_counter() + timeout
    while True:
        states = Counter(rows.values_list("status", flat=True))
        if states[status] == len(keys):
            return time.perf_counter()
        stuck = states["failed"] + states["unsupported"]
        if stuck or time.perf_counter() > deadline:
            errors = sorted(set(rows.exclude(last_error="").values_list("last_error", flat=True)))[:3]
            raise RuntimeError(f"Waiting for {len(keys)} rows to be {status}: {dict(states)}; errors: {errors}")
        time.sleep(POLL_SECONDS)


def calls_report(log: list[dict], labels: dict[str, str], limits: dict) -> dict:
    """Calls by endpoint and label, the busiest whole second of each label (simulator clock), 429s, other errors."""
    by_endpoint = Counter()
    seconds: dict[str, Counter] = {label: Counter() for label in LABELS}
    for entry in log:
        label = labels.get(entry["route"], "?")
        by_endpoint[(entry["method"], entry["route"], label, str(entry["status"]))] += 1
        seconds.setdefault(label, Counter())[int(entry["time"])] += 1
    per_label = {}
    for label, counts in seconds.items():
        if not counts:
            continue
        per_label[label] = {
            "calls": sum(counts.values()),
            "busiest_second": max(counts.values()),
            "limit": limits["simulator"].get(label),
            "paced_at": limits["product_pace"].get(label),
        }
    times = [entry["time"] for entry in log]
    return {
        "calls": len(log),
        "by_endpoint": [
            {"method": method, "route": route, "label": label, "status": status, "calls": count}
            for (method, route, label, status), count in sorted(by_endpoint.items())
        ],
        "per_label": per_label,
        "answers_429": sum(1 for entry in log if entry["status"] == 429),
        "other_errors": sum(1 for entry in log if str(entry["status"])[0] not in "23" and entry["status"] != 429),
        "span_s": round(max(times) - min(times), 2) if times else 0.0,
    }


def simulator_check(stack, meeting, *, wanted: set[str], cancelled: set[str]) -> dict:
    """What the simulator holds against the rows: each wanted person approved once, with the stored id and link."""
    from virtualmeeting.models import MeetingRegistrant

    held = stack.sim.admin.registrants(meeting.remote_id)
    by_email = Counter(registrant["email"].lower() for registrant in held)
    rows = {row.key: row for row in MeetingRegistrant.objects.filter(meeting=meeting)}
    by_id = {registrant["id"]: registrant for registrant in held}
    approved_right, cancelled_right = 0, 0
    for key in wanted:
        row, registrant = rows[key], by_id.get(rows[key].remote_id)
        if (
            registrant is not None
            and registrant["status"] == "approved"
            and registrant["email"].lower() == row.email.lower()
            and registrant["join_url"] == row.join_url
        ):
            approved_right += 1
    ours = {rows[key].email.lower() for key in wanted | cancelled}
    for registrant in held:
        if registrant["status"] == "cancelled" and registrant["email"].lower() in ours:
            cancelled_right += 1
    return {
        "registrants_at_zoom": len(held),
        "by_status": dict(Counter(registrant["status"] for registrant in held)),
        "by_source": dict(Counter(registrant.get("source", "?") for registrant in held)),
        "duplicates": sum(count - 1 for count in by_email.values() if count > 1),
        "wanted": len(wanted),
        "wanted_approved_with_their_link": approved_right,
        "cancelled_wanted": len(cancelled),
        "cancelled_at_zoom": cancelled_right,
        "strangers": len([email for email in by_email if email not in ours]),
        "emails_sent_by_zoom": len(stack.sim.admin.emails(meeting.remote_id)),
    }


def task_runs(logs: list[Path]) -> dict:
    """registrants_sync deliveries the workers ran, and what they did (from the workers' logs)."""
    pattern = re.compile(r"registrants_sync\[[^\]]+\] succeeded in ([0-9.]+)s: (\[.*\])")
    runs, steps = 0, Counter()
    for log in logs:
        for match in pattern.finditer(log.read_text(errors="replace")):
            runs += 1
            for step in re.findall(r"'([^']*)'", match.group(2)):
                steps[re.sub(r" \d+$", "", step)] += 1
    return {"runs": runs, "steps": dict(steps)}


def phase(stack, meeting, *, name: str, wanted: list, all_keys: set[str], labels, limits, timeout) -> dict:
    log_before = max((entry["seq"] for entry in stack.sim.requests_log()), default=0)
    set_seconds = registrants_set_timed(meeting.reference, wanted)
    committed = time.perf_counter()
    wanted_keys = {person.key for person in wanted}
    done = wait_rows(meeting.pk, status="registered", keys=wanted_keys, timeout=timeout)
    gone = all_keys - wanted_keys
    if gone:
        done = max(done, wait_rows(meeting.pk, status="cancelled", keys=gone, timeout=timeout))
    # The request log's entries of this phase (an answer is logged just before it is sent).
    time.sleep(0.2)
    calls = calls_report(stack.sim.admin.requests(since=log_before), labels, limits)
    return {
        "phase": name,
        "registered_wanted": len(wanted_keys),
        "cancelled_wanted": len(gone),
        "registrants_set_s": round(set_seconds, 3),
        "wall_s": round(done - committed, 2),
        **calls,
    }


def run(args) -> dict:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    machine = machine_info()
    workdir = args.workdir or ROOT / "var" / "bench" / f"registrants-{stamp}"
    labels = labels_of_routes()
    with Stack(workdir=workdir, database_url=args.database_url, redis_port=args.redis_port, sim_users=1) as stack:
        seminar, [trainer] = course_with_trainers(1)
        stack.connect([trainer])
        limits = limits_configured(stack)
        processes = stack.workers.start(args.workers)
        start = (datetime.now(UTC) + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
        event = one_session_event(seminar=seminar, trainer=trainer, start=start, name="Registrants benchmark")
        meeting = meeting_ready(event, timeout=60)
        print(
            f"Meeting {meeting.remote_id} requires registration; {args.workers} worker(s) ready. Limits: {limits}",
            flush=True,
        )
        everyone = people(args.people)
        all_keys = {person.key for person in everyone}
        phases = []
        phases.append(
            phase(
                stack,
                meeting,
                name="register",
                wanted=everyone,
                all_keys=all_keys,
                labels=labels,
                limits=limits,
                timeout=args.timeout,
            )
        )
        report(phases[-1])
        checks = [simulator_check(stack, meeting, wanted=all_keys, cancelled=set())]
        kept = everyone[args.cancel :]
        phases.append(
            phase(
                stack,
                meeting,
                name="cancel",
                wanted=kept,
                all_keys=all_keys,
                labels=labels,
                limits=limits,
                timeout=args.timeout,
            )
        )
        report(phases[-1])
        kept_keys = {person.key for person in kept}
        checks.append(simulator_check(stack, meeting, wanted=kept_keys, cancelled=all_keys - kept_keys))
        for check in checks:
            print(f"  at Zoom: {check}", flush=True)
        memory = {process.pid: rss_mb(process.pid) for process in processes}
        stack.workers.stop_all()
        tasks = task_runs(stack.workers.logs)
        errors_logged = stack.workers.errors_logged()
    command = ".venv/bin/python bench/registrants.py"
    defaults = parse_args([])
    for option in ("people", "cancel", "workers"):
        if getattr(args, option) != getattr(defaults, option):
            command += f" --{option} {getattr(args, option)}"
    return {
        "machine": machine,
        "command": command,
        "people": args.people,
        "cancel": args.cancel,
        "workers": args.workers,
        "limits": limits,
        "phases": phases,
        "checks": checks,
        "tasks": tasks,
        "worker_errors_logged": errors_logged,
        "worker_memory": memory,
    }


def report(result: dict) -> None:
    print(
        f"{result['phase']}: {result['wall_s']} s from commit to done (registrants_set "
        f"{result['registrants_set_s']} s), {result['calls']} calls, 429s {result['answers_429']}, "
        f"other errors {result['other_errors']}",
        flush=True,
    )
    for label, row in result["per_label"].items():
        print(
            f"  {label}: {row['calls']} calls, busiest second {row['busiest_second']} of {row['limit']} allowed",
            flush=True,
        )


def verdict(result: dict) -> dict:
    """Each check of the run: True when it holds."""
    register, cancel = result["checks"]
    return {
        "no_429": all(phase["answers_429"] == 0 for phase in result["phases"]),
        "no_other_errors": all(phase["other_errors"] == 0 for phase in result["phases"]),
        "within_limits": all(
            row["limit"] is None or row["busiest_second"] <= row["limit"]
            for phase in result["phases"]
            for row in phase["per_label"].values()
        ),
        "registered_once": (
            register["wanted_approved_with_their_link"] == result["people"]
            and register["registrants_at_zoom"] == result["people"]
            and register["duplicates"] == 0
        ),
        "cancelled": (
            cancel["cancelled_at_zoom"] == result["cancel"]
            and cancel["wanted_approved_with_their_link"] == result["people"] - result["cancel"]
            and cancel["registrants_at_zoom"] == result["people"]
            and cancel["duplicates"] == 0
        ),
        "no_strangers": register["strangers"] == cancel["strangers"] == 0,
        "no_zoom_email": register["emails_sent_by_zoom"] == cancel["emails_sent_by_zoom"] == 0,
    }


CHECK_NAMES = {
    "no_429": "no 429",
    "no_other_errors": "no other error",
    "within_limits": "no second over a label's limit",
    "registered_once": "each person registered exactly once",
    "cancelled": "each cancelled person cancelled",
    "no_strangers": "nobody else registered",
    "no_zoom_email": "no email from Zoom",
}


def counts_text(counts: dict) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counts.items(), key=lambda item: -item[1]))


def pace_bound(row: dict) -> float:
    """Seconds the phase needs at least: its busiest label's calls, spaced at the product's pace for that label."""
    return max((value["calls"] - 1) / value["paced_at"] for value in row["per_label"].values() if value["paced_at"])


def docs_section(result: dict) -> str:
    limits, checks = result["limits"], verdict(result)
    register, cancel = result["phases"]
    workers = f"{result['workers']} Celery worker process{'es' if result['workers'] != 1 else ''}"
    lines = [
        f"Measured {result['machine']['date']} on {describe(result['machine'])}.",
        "",
        f"Rerun: `{result['command']}` (PostgreSQL at `--database-url`, a database of its own that is dropped and "
        "created; `redis-server` on the PATH; under a minute).",
        "",
        f"One meeting of a licensed (Pro) host, made by `event_save` and requiring registration; {workers} "
        "(`--pool=solo`, the product's settings) on a private Redis; the Zoom simulator as a process (per second and "
        f"account: Heavy {limits['simulator']['Heavy']}, Medium {limits['simulator']['Medium']}, Light "
        f"{limits['simulator']['Light']}; the product spaces each label's calls evenly at 95% of that, through a token "
        f"bucket in Redis: {limits['product_pace']['Heavy']:g}, {limits['product_pace']['Medium']:g} and "
        f"{limits['product_pace']['Light']:g} a second). Register: one `registrants_set` of {result['people']} people "
        "in one transaction (what the seminars app does with an event's seats); cancel: `registrants_set` again "
        f"without {result['cancel']} of them. The time runs from the commit to the last row registered (or "
        'cancelled), polled every 50 ms; "at the pace" is the least time the calls of the busiest label take at the '
        "product's pace. Calls come from the simulator's request log, seconds from its clock (Zoom counts whole "
        "seconds).",
        "",
        "| phase | people | commit to done | at the pace | `registrants_set` itself | calls "
        "| busiest second by label (calls / limit) | 429s | other errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row, count in ((register, result["people"]), (cancel, result["cancel"])):
        busiest = ", ".join(
            f"{label} {value['busiest_second']} / {value['limit']}" for label, value in row["per_label"].items()
        )
        lines.append(
            f"| {row['phase']} | {count} | {row['wall_s']:.1f} s | {pace_bound(row):.1f} s | "
            f"{row['registrants_set_s']:.1f} s | {row['calls']} | {busiest} | {row['answers_429']} | "
            f"{row['other_errors']} |"
        )
    lines += ["", "| phase | call | label | answer | calls |", "|---|---|---|---|---|"]
    for row in (register, cancel):
        for entry in row["by_endpoint"]:
            lines.append(
                f"| {row['phase']} | `{entry['method']}` {entry['route']} | {entry['label']} | "
                f"{entry['status']} | {entry['calls']} |"
            )
    at_zoom_register, at_zoom_cancel = result["checks"]
    lines += [
        "",
        f"At Zoom after registering: {at_zoom_register['registrants_at_zoom']} registrants; "
        f"{at_zoom_register['wanted_approved_with_their_link']} of {result['people']} people approved with the id "
        f"and link stored on their row; {at_zoom_register['duplicates']} duplicates; "
        f"{at_zoom_register['strangers']} others. After cancelling: {counts_text(at_zoom_cancel['by_status'])}; "
        f"{at_zoom_cancel['duplicates']} duplicates. Emails Zoom would have sent: "
        f"{at_zoom_register['emails_sent_by_zoom'] + at_zoom_cancel['emails_sent_by_zoom']}. The workers ran "
        f"{result['tasks']['runs']} registrants tasks (steps: {counts_text(result['tasks']['steps'])}).",
        "",
        "Target (issue 9): no 429: **"
        + ("met" if checks["no_429"] else "missed")
        + "**. Checks: "
        + ", ".join(f"{CHECK_NAMES[name]} **{'met' if ok else 'missed'}**" for name, ok in checks.items())
        + ".",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    result["verdict"] = verdict(result)
    print(f"Checks: {result['verdict']}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"registrants-{stamp}.json").write_text(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not args.no_docs:
        section_write(DOCS, "Registrants", "registrants", docs_section(result))
        print(f'Wrote the "Registrants" section of {DOCS.relative_to(ROOT)}.')
    return 0 if all(result["verdict"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
