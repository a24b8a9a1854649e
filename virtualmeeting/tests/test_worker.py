"""A real Celery worker process, against the real broker (Redis) and PostgreSQL.

Run with DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... (and
REDIS_URL for the cache the test provider keeps its "remote" in). The worker
sees the test database because it is given its name.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from lms.celery import app
from virtualmeeting.conf import vm_settings
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.providers.testing import NAMESPACE_ENV, TestProvider
from virtualmeeting.services import meeting_remove
from virtualmeeting.sync import meeting_sync
from virtualmeeting.tasks import meeting_sweep
from virtualmeeting.tests.conftest import START, TEST_PROVIDER
from virtualmeeting.tests.helpers import fresh, put

Status = VirtualMeeting.Status
BASE_DIR = Path(settings.BASE_DIR)
QUEUE = "celery"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, *, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}.")


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker():
    """Tasks go to the real broker for this test (the suite runs them eagerly otherwise)."""
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = was


@pytest.fixture
def start_worker(broker, tmp_path):
    workers = []

    def start():
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "VIRTUALMEETING_PROVIDERS": TEST_PROVIDER,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            NAMESPACE_ENV: os.environ[NAMESPACE_ENV],  # the same simulated remote as this test
        }
        handle = log.open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "lms",
                "worker",
                "--pool=solo",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--purge",
                "-l",
                "INFO",
                "-n",
                f"vm-test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        workers.append((process, handle))
        try:
            wait_for(
                lambda: "ready." in log.read_text() or process.poll() is not None,
                timeout=60,
                what="the worker to start",
            )
        except AssertionError:
            raise AssertionError(f"The worker did not start:\n{log.read_text()}") from None
        assert process.poll() is None, f"The worker exited:\n{log.read_text()}"
        return process

    yield start
    for process, handle in workers:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        handle.close()


@pytest.mark.worker
def test_worker_syncs_a_meeting_end_to_end(start_worker, owner):
    start_worker()

    meeting = put(owner, topic="Through a real worker")  # committed: the task goes to Redis
    wait_for(lambda: fresh(meeting).status == Status.AVAILABLE, what="the create")
    [remote] = TestProvider.meetings()
    assert remote["topic"] == "Through a real worker"
    assert fresh(meeting).remote_id == remote["remote_id"]

    put(owner, topic="Renamed")
    wait_for(
        lambda: TestProvider.meetings()[0]["topic"] == "Renamed" and fresh(meeting).status == Status.AVAILABLE,
        what="the update",
    )

    meeting_remove(reference="ref:1")
    wait_for(lambda: fresh(meeting).status == Status.DELETED, what="the delete")
    assert TestProvider.meetings() == []
    assert (TestProvider.calls("create"), TestProvider.calls("update"), TestProvider.calls("delete")) == (1, 1, 1)


@pytest.fixture
def beat():
    """What Celery beat does: queue the sweep every VIRTUALMEETING_SWEEP_SECONDS (30 s), from the test's start."""
    stop = threading.Event()

    def run():
        while True:
            meeting_sweep.delay()
            if stop.wait(settings.CELERY_BEAT_SCHEDULE["virtualmeeting-sweep"]["schedule"]):
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.mark.worker
def test_worker_killed_mid_create_recovers_within_a_minute_without_a_duplicate(start_worker, beat, owner):
    first = start_worker()
    TestProvider.fail_next("create", "hang", seconds=120)  # applied remotely, then no answer for 2 minutes

    meeting = put(owner, topic="Survives a crash")
    wait_for(lambda: len(TestProvider.meetings()) == 1, what="the create to reach the provider")
    # The live worker keeps its claim through a call longer than the lease, by renewing it.
    time.sleep(vm_settings.CLAIM_SECONDS + vm_settings.CLAIM_RENEW_SECONDS)
    row = fresh(meeting)
    assert row.status == Status.CREATING
    assert row.claimed_until > timezone.now()
    assert TestProvider.calls("find") == 0

    first.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    first.wait(timeout=20)
    row = fresh(meeting)
    assert row.maybe_created is True
    assert row.remote_id == ""
    assert row.claimed_until <= timezone.now() + timedelta(seconds=vm_settings.CLAIM_SECONDS)

    start_worker()  # another worker of the pool; the dead one's task is not redelivered for an hour
    wait_for(lambda: fresh(meeting).status == Status.AVAILABLE, timeout=90, what="the recovery")
    recovered_after = time.monotonic() - killed
    print(f"Recovered {recovered_after:.1f} s after SIGKILL")  # noqa: T201 (the measure, shown with -s)
    assert recovered_after < 60

    [remote] = TestProvider.meetings()
    assert fresh(meeting).remote_id == remote["remote_id"]
    assert TestProvider.calls("create") == 1
    assert TestProvider.calls("find") == 1


def _in_thread(target, *args):
    result = {}

    def body():
        try:
            result["value"] = target(*args)
        finally:
            db_connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


def _unsynced_meeting(owner, topic):
    """The row meeting_put makes, without queueing its task (tasks run eagerly in this test)."""
    return VirtualMeeting.objects.create(
        reference="ref:1",
        provider="test",
        owner=owner,
        topic=topic,
        start=START,
        finish=START + timedelta(hours=1),
        time_zone="UTC",
    )


def test_concurrent_deliveries_make_one_create(owner):
    TestProvider.fail_next("create", "hang", seconds=1)
    meeting = _unsynced_meeting(owner, "Three deliveries")

    threads = [_in_thread(meeting_sync, meeting.pk) for _ in range(3)]
    for thread, _ in threads:
        thread.join(timeout=30)

    outcomes = sorted(str(result["value"]) for _, result in threads)
    assert outcomes.count("['skipped']") == 2
    assert TestProvider.calls("create") == 1
    assert len(TestProvider.meetings()) == 1
    assert fresh(meeting).status == Status.AVAILABLE


def test_a_change_during_the_call_is_synced_by_the_same_run(owner):
    TestProvider.fail_next("create", "hang", seconds=2)
    meeting = _unsynced_meeting(owner, "Before")

    thread, result = _in_thread(meeting_sync, meeting.pk)
    wait_for(lambda: len(TestProvider.meetings()) == 1, timeout=10, what="the create")
    # Commits while the worker waits for the provider (its own eager task finds the meeting claimed).
    put(owner, topic="During", zone="UTC")
    thread.join(timeout=30)

    assert result["value"] == ["create", "update"]
    meeting = fresh(meeting)
    assert meeting.status == Status.AVAILABLE
    assert meeting.synced_version == meeting.desired_version == 2
    assert TestProvider.meetings()[0]["topic"] == "During"
