"""The email task in a real Celery worker process, against the real broker (Redis) and PostgreSQL.

Run with DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... The worker
prints the emails it sends (console backend) to its log and marks the test
database's rows, whose name it is given.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from lms.celery import app
from seminars.models import OutboundEmail
from seminars.services.bookings import booking_create
from seminars.tasks import email_send_task

pytestmark = [pytest.mark.postgres, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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
def worker_log(tmp_path):
    """A worker started for this test (tasks go to the broker, not run eagerly); yields its log file."""
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lms", "worker", "--pool=solo", "-Q", "celery"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "--purge", "-l", "INFO"]
            + ["-n", f"email-test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, what="the worker to start")
            assert process.poll() is None, f"The worker exited:\n{log.read_text()}"
            yield log
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            app.conf.task_always_eager = was


def test_a_worker_sends_a_booking_email_once_even_when_the_message_comes_twice(worker_log, event, learner):
    booking_create(event=event, user=learner, actor=learner)  # committed: the task goes to Redis
    email = OutboundEmail.objects.get(to=learner.email)
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).state == OutboundEmail.State.SENT, what="the send")

    email_send_task.delay(email.pk)  # the same message again, as a redelivery would bring it
    wait_for(lambda: "'not claimed'" in worker_log.read_text(), what="the second message")

    assert worker_log.read_text().count("Subject: Booking confirmed: Fire wardens, Spring intake") == 1
