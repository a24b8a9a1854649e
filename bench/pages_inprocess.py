"""The page benchmark's in-process side: which pages, their SQL query counts, timings and profiles.

Requests go through Django's test client in the script's own process (no HTTP,
no gunicorn), signed in with force_login, against the benchmark database.
"""

import cProfile
import io
import pstats
import re
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# The second size the query counts are taken at: smaller in events, sessions per event and signups per event.
SMALL_DATASET = {"events": 50, "sessions_per_event": 1, "signups_per_event": 5}


def pages_for(dataset) -> list[dict]:
    """The measured pages: key, label, who is logged in, path, and text the right answer contains."""
    from django.urls import reverse

    from bench.dataset import LIVE_JOIN_PREFIX
    from seminars.models import Session

    live_session = Session.objects.filter(event__name="Live event").values_list("pk", flat=True).get()
    return [
        {
            "key": "minimal",
            "label": "Minimal Django view",
            "user": dataset.learner,
            "path": reverse("bench_minimal"),
            "expect": "ok",
        },
        {
            "key": "join",
            "label": '"Join now" redirect (learner)',
            "user": dataset.learner,
            "path": reverse("seminars:virtual_join", args=[live_session]),
            # The learner's own registrant link, never the login page or the event page with a message.
            "expect_location": LIVE_JOIN_PREFIX + "89999999999?tk=personal-",
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
        {
            "key": "report_event",
            "label": "Event report (trainer)",
            "user": dataset.trainer,
            "path": reverse("seminars:event_report", args=[dataset.event_id]),
            "expect": "Sign-ups and attendance: Benchmark seminar Benchmark event 1<",
        },
        {
            "key": "report_seminar",
            "label": "Seminar report (trainer)",
            "user": dataset.trainer,
            "path": reverse("seminars:seminar_report", args=[dataset.seminar_id]),
            "expect": "Sign-ups and attendance: Benchmark seminar<",
        },
        {
            "key": "report_course_filtered",
            "label": "Course report, filtered (trainer)",
            "user": dataset.trainer,
            # Booked only, by last change, newest first: a filter, a sort on a subquery, a later page.
            "path": reverse("seminars:course_report", args=[dataset.course_id]) + "?state=booked&sort=-changed&page=3",
            "expect": "Sign-ups and attendance: Benchmark course",
        },
        {
            "key": "report_course_csv",
            "label": "Course report CSV, every row (trainer)",
            "user": dataset.trainer,
            "path": reverse("seminars:course_report_csv", args=[dataset.course_id]),
            "expect": "Learner,Username,Email",
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
        _get(client, page["path"])
        with CaptureQueriesContext(connection) as captured:
            response, body = _get(client, page["path"])
        _check(page, response, body)
        counts[page["key"]] = {
            "queries": len(captured),
            "html_kb": round(len(body) / 1024, 1),
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
        _get(client, page["path"])
        totals, sql = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response, body = _get(client, page["path"])
                totals.append(time.perf_counter() - began)
            _check(page, response, body)
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
    _get(client, page["path"])
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        _get(client, page["path"])
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


def _get(client, path):
    """(response, body): a streamed response (the CSV export) is read to its end, as a client would."""
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _check(page, response, body):
    if "expect_location" in page:
        location = response.get("Location", "")
        if response.status_code == 302 and location.startswith(page["expect_location"]):
            return
        raise SystemExit(
            f"{page['label']} ({page['path']}) answered {response.status_code} to {location!r}, not to "
            f"{page['expect_location']!r}: the benchmark would measure the wrong answer."
        )
    if response.status_code != 200 or page["expect"].encode() not in body:
        raise SystemExit(
            f"{page['label']} ({page['path']}) answered {response.status_code} without "
            f"{page['expect']!r}: the benchmark would measure the wrong page."
        )


def small_size_counts() -> dict:
    """Query counts on a 100-session dataset, in a transaction that is rolled back."""
    from django.db import transaction

    from bench.dataset import dataset_load, live_event_load

    with transaction.atomic():
        small = dataset_load(**SMALL_DATASET)
        live_event_load(learners=1)
        counts = count_queries(small)
        transaction.set_rollback(True)
    return {"dataset": vars(small), "counts": counts}
