"""Convergence under faults (issue 5), at the issue's size: 200 sessions across 5 trainers; and its check.

Runs bench/convergence.py as a process against a PostgreSQL database of its own
(this test database's name + "_convergence", dropped afterwards), a private
redis-server on a free port (it is restarted mid-run), the Zoom simulator and
real Celery workers, one of which is SIGKILLed. The script does the checks
against the simulator's admin API and writes its counts as JSON; this test
asserts them. Needs `redis-server` on the PATH and PostgreSQL.
"""

import io
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from bench.convergence import converged, create_events, verify
from bench.harness import ROOT, connect_trainer, course_with_trainers, free_port
from seminars.meetings import parse_reference
from seminars.models import Session
from virtualmeeting.models import VirtualMeeting
from zoomsim.server import start_server


def run_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_convergence"


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.timeout(600)
def test_meetings_converge_after_faults_a_killed_worker_and_a_redis_restart(tmp_path):
    result_path = tmp_path / "convergence.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [
        sys.executable, "bench/convergence.py",
        "--sessions", "200", "--trainers", "5", "--workers", "3",
        "--database-url", run_database_url(),
        "--redis-port", str(free_port()),
        "--settle-timeout", "180",
        "--workdir", str(tmp_path / "run"),
        "--json", str(result_path),
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    output = finished.stdout + finished.stderr
    assert result_path.exists(), f"The convergence run did not finish:\n{output[-5000:]}"
    result = json.loads(result_path.read_text())
    print(finished.stdout)

    # The faults, the crash and the restart really happened.
    assert result["faults_injected"] >= 50, output
    assert result["workers_killed"] == 1 and result["redis_restarts"] == 1
    assert result["sessions_changed"] >= 200 // 3
    assert all(result["changes"][kind] > 0 for kind in ("cancel", "move", "edit", "remove")), result["changes"]
    # And the system still converged.
    assert result["settled"], output[-5000:]
    assert result["sessions_found"] == result["sessions_expected"] == 200 - result["changes"]["remove"]
    assert result["bookings_found"] == result["bookings_expected"] > 0
    assert result["meetings_found"] == result["meetings_expected"] == result["zoom_meetings_alive"] > 0
    for problem in ("duplicates", "orphans", "missing", "not_available", "wrong_time", "wrong_zone", "wrong_topic",
                    "wrong_host", "failed"):
        assert result[problem] == [], f"{problem}: {result[problem]}\n{output[-3000:]}"
    assert result["still_pending"] == 0
    assert result["converged"] is True
    assert finished.returncode == 0, output[-5000:]


@pytest.fixture
def zoom_sim(tmp_path, settings):
    """The simulator in a thread; the product pointed at it (tasks run eagerly in this test)."""
    callback = settings.SITE_URL + reverse("virtualmeeting:auth_callback", args=["zoom"])
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"), redirect_uri=callback)
    settings.ZOOM_OAUTH_BASE_URL = server.oauth_base_url
    settings.ZOOM_API_BASE_URL = server.api_base_url
    settings.REDIS_URL = ""  # the rate bucket in the database: this test touches no Redis
    yield server
    server.stop()


@pytest.mark.django_db
def test_the_check_finds_moved_missing_duplicate_and_orphaned_meetings(zoom_sim, django_capture_on_commit_callbacks):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    seminar, [trainer] = course_with_trainers(1)
    connect_trainer(trainer, zoom_email="pro@zoomsim.test", sim_url=zoom_sim.url)
    emails = {trainer.pk: "pro@zoomsim.test"}
    base = (datetime.now(UTC) + timedelta(days=3)).replace(hour=6, minute=0, second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        create_events(seminar, [trainer], [[4]], base, random.Random(1))

    result = verify(zoom_sim, emails, {"sessions": 4, "bookings": 0})
    assert converged(result), result
    assert result["meetings_found"] == result["meetings_expected"] == result["zoom_meetings_alive"] == 4

    moved, deleted, forgotten, orphaned = VirtualMeeting.objects.order_by("pk")
    zoom_sim.edit_meeting(moved.remote_id, start_time="2031-01-06T10:00:00Z", notify=False)
    zoom_sim.delete_meeting(deleted.remote_id, notify=False)
    # The row points elsewhere: the session's real meeting is now a second one.
    VirtualMeeting.objects.filter(pk=forgotten.pk).update(remote_id="99999999999")
    # A session deleted behind the services' back leaves its meeting in Zoom.
    Session.objects.filter(pk=parse_reference(orphaned.reference)[1]).delete()

    result = verify(zoom_sim, emails, {"sessions": 4, "bookings": 0})
    assert not converged(result)
    assert [problem[0] for problem in result["wrong_time"]] == [moved.reference]
    assert sorted(result["missing"]) == sorted([deleted.reference, forgotten.reference])
    assert [(d["id"], d["reference"]) for d in result["duplicates"]] == [(int(forgotten.remote_id), forgotten.reference)]
    assert [(o["id"], o["reference"]) for o in result["orphans"]] == [(int(orphaned.remote_id), orphaned.reference)]
    assert (result["sessions_found"], result["meetings_expected"]) == (3, 3)
