"""bench/sweeps.py's pieces at the smallest size, in the test database: the data holds the due work it
promises, each job finds exactly that work, and the plans and the docs section come out."""

from datetime import UTC, datetime

import pytest

from bench.sweeps import check_database_name, docs_section, explain, jobs, measure_job, run_rolled_back
from bench.sweeps_data import DUE, ORPHANS, events_for, fill


def count(kind: str) -> int:
    first, last = DUE[kind]
    return last - first + 1


@pytest.fixture
def filled(db):
    return fill(0)


def test_the_data_has_the_history_and_the_due_work(filled):
    from virtualmeeting.models import MeetingOccurrence, MeetingRegistrant, VirtualMeeting

    events = events_for(0)
    assert filled["sessions"] == 2 * events
    assert filled["meetings"] == 2 * events + ORPHANS
    assert VirtualMeeting.objects.filter(status="updating").count() == 2 * count("sync")
    assert MeetingRegistrant.objects.filter(status="pending").count() == 4 * count("registrants")
    assert MeetingOccurrence.objects.filter(next_poll_at__isnull=False).count() == 2 * count("poll")


def test_each_job_finds_the_due_work_and_nothing_is_kept(filled):
    from virtualmeeting.models import VirtualMeeting

    # send=False: what a job queues after commit is dropped (the tests run Celery eagerly).
    runs = {name: run_rolled_back(function, send=False) for name, function in jobs().items()}
    found = {name: run[0] for name, run in runs.items()}

    assert found["meeting_sweep"] == 2 * count("sync")  # the meetings queued for a sync
    assert found["participants_sweep"] == 2 * count("finished_unpolled") + 2 * count("poll")
    assert found["meetings_reconcile"] == ORPHANS
    assert found["requests_expire"] == count("started_requests")
    assert found["reminders_queue"] > 0 and found["minimum_warnings"] > 0  # emails to the booked and the trainers
    queued = {name for name, run in runs.items() if run[3]}  # work queued after commit (the meeting tasks)
    assert {"meeting_sweep", "participants_sweep", "meetings_reconcile"} <= queued
    # Every run is rolled back: the next one sees the same rows.
    assert VirtualMeeting.objects.filter(status="updating", queued_for__isnull=True).count() == 2 * count("sync")
    assert VirtualMeeting.objects.filter(present=False).count() == 0


def test_a_job_is_timed_and_its_selects_explained(filled):
    row = measure_job(jobs()["meetings_reconcile"], runs=2, send=False)

    assert row["result"] == ORPHANS and len(row["times_ms"]) == 2 and row["median_ms"] > 0
    assert row["queries"] >= len(row["plans"]) > 0
    nodes = {scan["node"] for plan in row["plans"] for scan in plan["scans"]}
    assert nodes and nodes <= {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
    assert row["rows_read"] == sum(plan["rows_read"] for plan in row["plans"]) > 0


def test_explain_reads_the_scans_of_a_plan(filled):
    (plan,) = explain(["SELECT count(*) FROM seminars_session WHERE id > 0"])
    assert plan["scans"][0]["relation"] == "seminars_session"
    assert plan["rows_read"] == filled["sessions"]


def test_the_docs_section_shows_every_job_and_size_with_the_baseline(filled):
    row = {"median_ms": 1.5, "queries": 3, "rows_read": 1200, "plans": [], "seq_scans": []}
    plan = {
        "time_ms": 0.4,
        "rows_read": 10,
        "scans": [{"node": "Index Scan", "index": "i", "relation": "t", "rows_read": 10}],
    }
    machine = {
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "nproc": 2,
        "cpu": "x",
        "ram_gb": 4,
        "kernel": "6",
        "python": "3.11",
        "load_average_before": 1.0,
        "cpu_pressure_before": 50.0,
        "python_loop_s": 0.3,
    }
    results = {
        "machine": machine,
        "postgres": "16",
        "runs": 5,
        "sizes": [{"meetings": n, "jobs": {"meeting_sweep": {**row, "plans": [plan]}}} for n in (1000, 100000)],
    }
    baseline = {"sizes": [{"meetings": 100000, "jobs": {"meeting_sweep": {**row, "median_ms": 900.0}}}]}

    text = docs_section(results, baseline)

    assert "| `meeting_sweep` | 1.5 ms, 3 q, 1,200 rows | 1.5 ms, 3 q, 1,200 rows (before: 900.0 ms" in text
    assert "CPU pressure 50.0%" in text
    assert "Index Scan using i on t (10)" in text


def test_the_script_refuses_a_database_that_is_not_a_benchmarks():
    with pytest.raises(SystemExit, match="must contain 'bench'"):
        check_database_name("postgres://postgres@127.0.0.1:5432/lms")
