"""Convergence under faults (issue 5), at the issue's size: 200 sessions across 5 trainers, with a handover of 50
meetings in the site's Zoom account from host A to host B (issue 11), and 30 sessions in Microsoft Teams rooms
of one more trainer (issue 12: a mix of providers in one run); and its checks.

Runs bench/convergence.py as a process against a PostgreSQL database of its own
(this test database's name + "_convergence", dropped afterwards), a private
redis-server on a free port (it is restarted mid-run), the Zoom and Microsoft
simulators and real Celery workers, one of which is SIGKILLed. The script does the checks
against the simulator's admin API and writes its counts as JSON; this test
asserts them. Needs `redis-server` on the PATH and PostgreSQL.

The handover is made while host A's meetings are still being made, before the
worker is killed and Redis restarted, under the faults; whether the engine makes
a moved meeting under its new host first or deletes the old one first, the end
must be the same: each handed meeting once under its new host, none left under
the old one.
"""

import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from bench.convergence import (
    HANDOVER_PROBLEMS,
    HOST_A,
    HOST_B,
    account_hosts_add,
    account_people,
    converged,
    create_events,
    hand_over,
    handover_converged,
    site_account_for_new_rooms,
    verify,
    verify_handovers,
)
from bench.harness import ROOT, connect_trainer, course_with_trainers, free_port
from seminars.meetings import parse_reference
from seminars.models import Room, Session
from simulators.zoom.server import start_server
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.sync import meeting_sync


def run_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_convergence"
    )


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.timeout(600)
def test_meetings_converge_after_faults_a_killed_worker_a_redis_restart_and_a_handover(tmp_path):
    result_path = tmp_path / "convergence.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    # fmt: off
    command = [
        sys.executable, "bench/convergence.py",
        "--sessions", "200", "--trainers", "5", "--workers", "3", "--handover", "50", "--teams-sessions", "30",
        "--database-url", run_database_url(),
        "--redis-port", str(free_port()),
        "--settle-timeout", "180",
        "--workdir", str(tmp_path / "run"),
        "--json", str(result_path),
    ]
    # fmt: on
    began = time.monotonic()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    output = finished.stdout + finished.stderr
    assert result_path.exists(), f"The convergence run did not finish:\n{output[-5000:]}"
    result = json.loads(result_path.read_text())
    print(finished.stdout)
    print(f"The convergence run took {time.monotonic() - began:.0f} s.")

    # The faults, the crash and the restart really happened.
    assert result["faults_injected"] >= 50, output
    assert result["workers_killed"] == 1 and result["redis_restarts"] == 1
    assert result["sessions_changed"] >= 200 // 3
    assert all(result["changes"][kind] > 0 for kind in ("cancel", "move", "edit", "remove")), result["changes"]
    # And the system still converged.
    assert result["settled"], output[-5000:]
    assert result["sessions_found"] == result["sessions_expected"] == 200 + 50 + 30 - result["changes"]["remove"]
    assert result["bookings_found"] == result["bookings_expected"] > 0
    assert result["meetings_found"] == result["meetings_expected"] == result["zoom_meetings_alive"] > 0
    for problem in (
        "duplicates",
        "orphans",
        "missing",
        "not_available",
        "wrong_time",
        "wrong_zone",
        "wrong_topic",
        "wrong_host",
        "failed",
    ):
        assert result[problem] == [], f"{problem}: {result[problem]}\n{output[-3000:]}"
    assert result["still_pending"] == 0
    # The handover: host A's 50 rooms to host B, and 5 rooms of a trainer's own connection to host A, both made
    # while the faults ran, before the worker was killed and Redis restarted.
    handover = result["handover"]
    assert [(made["from"], made["to"], made["rooms"]) for made in handover["made"]] == [
        (HOST_A, HOST_B, 50),
        ("trainer01", HOST_A, 5),
    ]
    assert handover["handed_over"] == handover["moved"] == 55, handover
    assert handover["progress"] == {"moved": 55}
    for problem in HANDOVER_PROBLEMS:
        assert handover[problem] == [], f"{problem}: {handover[problem]}\n{output[-3000:]}"
    # No orphans in either host's account: host B holds exactly the 50, host A only the trainer's 5.
    assert handover["host_meetings_alive"] == {HOST_A: 5, HOST_B: 50}
    # The Teams rooms beside them (one more trainer, 30 sessions, under Graph's own faults): each wanted session's
    # meeting exactly once in the Microsoft simulator, at its time, none failed, none left over.
    teams = result["teams"]
    assert teams["faults_injected"] >= 5, teams["graph_calls"]
    assert 0 < teams["meetings_found"] == teams["meetings_expected"] == teams["teams_meetings_alive"], teams
    for problem in ("missing", "not_available", "wrong_time", "extra", "failed"):
        assert teams[problem] == [], f"Teams {problem}: {teams[problem]}\n{output[-3000:]}"
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
    # The site account's token and hosts are cached: a cache of this test's own (another simulator's are unknown).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
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
    assert [(d["id"], d["reference"]) for d in result["duplicates"]] == [
        (int(forgotten.remote_id), forgotten.reference)
    ]
    assert [(o["id"], o["reference"]) for o in result["orphans"]] == [(int(orphaned.remote_id), orphaned.reference)]
    assert (result["sessions_found"], result["meetings_expected"]) == (3, 3)


@pytest.mark.django_db
def test_the_handover_check_finds_meetings_left_with_the_old_host_and_missing_with_the_new(
    zoom_sim, django_capture_on_commit_callbacks
):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    seminar, [trainer] = course_with_trainers(1)
    connect_trainer(trainer, zoom_email="pro@zoomsim.test", sim_url=zoom_sim.url)
    emails = {trainer.pk: "pro@zoomsim.test"}
    account_hosts_add(zoom_sim)
    host_a_person, _ = account_people(seminar)
    site_account_for_new_rooms()
    base = (datetime.now(UTC) + timedelta(days=3)).replace(hour=6, minute=0, second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        [event] = create_events(seminar, [host_a_person], [[3]], base, random.Random(1))
    assert [m["host"] for m in zoom_sim.meetings(host=HOST_A)] == [HOST_A] * 3

    # Handed to host B, the meetings not moved yet: all three still under host A, none under host B.
    with django_capture_on_commit_callbacks(execute=False):
        handover, attempts = hand_over(rooms=Room.objects.filter(event=event), to_host=HOST_B, reason="")
    assert attempts == 1
    found = verify_handovers(zoom_sim, emails, [handover.pk])
    assert not handover_converged(found)
    assert (found["handed_over"], found["moved"]) == (3, 0)
    assert sorted(o["reference"] for o in found["orphans_in_old_host"]) == sorted(
        m.reference for m in VirtualMeeting.objects.all()
    )
    assert len(found["missing_in_new_host"]) == 3 and found["progress"] == {"moving": 3}
    result = verify(zoom_sim, emails, {"sessions": 3, "bookings": 0}, hosts=(HOST_A, HOST_B))
    assert len(result["wrong_host"]) == 3 and not converged(result)

    # The engine moves them: one each under host B, none under host A.
    for meeting in VirtualMeeting.objects.order_by("pk"):
        with django_capture_on_commit_callbacks(execute=True):
            meeting_sync(meeting.pk)
    found = verify_handovers(zoom_sim, emails, [handover.pk])
    assert handover_converged(found), found
    assert found["host_meetings_alive"] == {HOST_A: 0, HOST_B: 3} and found["progress"] == {"moved": 3}
    assert converged(verify(zoom_sim, emails, {"sessions": 3, "bookings": 0}, hosts=(HOST_A, HOST_B)))

    # Deleted in Zoom behind our back: missing under host B.
    gone = VirtualMeeting.objects.order_by("pk").first()
    zoom_sim.delete_meeting(gone.remote_id, notify=False)
    found = verify_handovers(zoom_sim, emails, [handover.pk])
    assert [m["reference"] for m in found["missing_in_new_host"]] == [gone.reference]
    assert found["moved"] == 2 and not handover_converged(found)
