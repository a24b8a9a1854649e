"""How many GETs the pre-start checks make, and whether each meeting is checked before its join window.

    .venv/bin/python bench/prestart_checks.py                        # 5,000 sessions a day, three patterns
    .venv/bin/python bench/prestart_checks.py --sessions 20000

A simulation of the sweep's scheduling, with the product's own settings and plan
(`virtualmeeting.state.checks_plan`, PRESTART_CHECKS_MINUTES, PRESTART_CHECK_SPREAD, PRESTART_CHECK_BATCH,
PRESTART_CHECKS_PER_SECOND): three days of sessions, meetings made days ahead; the
sweep runs every 30 s (as Celery beat does), takes the checks due, oldest first, at
most one batch, and queues them one every 1/rate seconds; each check then plans the
next checkpoint. No database, no provider: it counts the GETs of the middle day per
minute, and how late the last check before each session ran (it must run before the
15-minute join window opens). Needs no services; runs in a few seconds.
"""

from __future__ import annotations

import argparse
import heapq
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from virtualmeeting.conf import vm_settings  # noqa: E402
from virtualmeeting.state import checks_plan  # noqa: E402

DAY0 = datetime(2030, 1, 1, tzinfo=UTC)
SWEEP = timedelta(seconds=30)
WINDOW = timedelta(minutes=15)


def starts(pattern: str, per_day: int) -> list[datetime]:
    """Session starts over three days: `spread` (every minute 08:00-18:00), `slots` (:00 and :30), `one` (09:00)."""
    result = []
    for day in range(3):
        base = DAY0 + timedelta(days=day)
        for n in range(per_day):
            if pattern == "spread":
                offset = timedelta(hours=8, minutes=n % 600)
            elif pattern == "slots":
                offset = timedelta(hours=8, minutes=30 * (n % 20))
            else:
                offset = timedelta(hours=9)
            result.append(base + offset)
    return result


def simulate(pattern: str, per_day: int) -> dict:
    batch, rate = vm_settings.PRESTART_CHECK_BATCH, vm_settings.PRESTART_CHECKS_PER_SECOND
    made = DAY0 - timedelta(days=3)
    due = []  # (next_check_at, meeting index)
    session_starts = starts(pattern, per_day)
    for index, start in enumerate(session_starts):
        _, next_at = checks_plan(start=start, now=made, key=index + 1)
        heapq.heappush(due, (next_at, index))
    per_minute = Counter()
    worst_margin = None  # the least time left before the join window at the last check of a middle-day session
    day1, day2 = DAY0 + timedelta(days=1), DAY0 + timedelta(days=2)
    now = DAY0
    while now < DAY0 + timedelta(days=3) and due:
        taken = []
        while due and due[0][0] <= now and len(taken) < batch:
            taken.append(heapq.heappop(due))
        for position, (_, index) in enumerate(taken):
            ran = now + timedelta(seconds=position / rate)
            start = session_starts[index]
            if day1 <= ran < day2:
                per_minute[ran.replace(second=0, microsecond=0)] += 1
            done, next_at = checks_plan(start=start, now=ran, key=index + 1)
            if next_at is not None:
                heapq.heappush(due, (next_at, index))
            elif day1 <= start < day2:
                margin = start - WINDOW - ran
                worst_margin = margin if worst_margin is None else min(worst_margin, margin)
        now += SWEEP
    total = sum(per_minute.values())
    return {
        "pattern": pattern,
        "gets_per_day": total,
        "gets_per_minute_mean": total / (24 * 60),
        "gets_per_minute_peak": max(per_minute.values()),
        "gets_per_second_peak": rate,
        "least_margin_before_window_s": worst_margin.total_seconds(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000, help="sessions a day (default 5000)")
    args = parser.parse_args()
    print(
        f"{args.sessions} sessions a day; checkpoints {vm_settings.PRESTART_CHECKS_MINUTES} min before the start; "
        f"batch {vm_settings.PRESTART_CHECK_BATCH} per 30 s sweep at {vm_settings.PRESTART_CHECKS_PER_SECOND}/s"
    )
    print(f"{'start times':<12} {'GETs/day':>9} {'mean/min':>9} {'peak/min':>9} {'least margin before window':>27}")
    for pattern in ("spread", "slots", "one"):
        r = simulate(pattern, args.sessions)
        print(
            f"{r['pattern']:<12} {r['gets_per_day']:>9} {r['gets_per_minute_mean']:>9.1f} "
            f"{r['gets_per_minute_peak']:>9} {r['least_margin_before_window_s']:>25.0f} s"
        )


if __name__ == "__main__":
    main()
