"""A reminder is delivered once when the worker sending it is killed mid-send (real Celery worker, Redis,
PostgreSQL; deliveries counted in a file-based mailbox that every process writes to)."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from lms.celery import app
from seminars.models import OutboundEmail, Session
from seminars.outbox import REQUEUE_GRACE
from seminars.services.bookings import booking_create
from seminars.tasks import email_send_task, emails_requeue_task, reminders_queue_task
from seminars.tests.test_email_worker import database_url, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_worker(tmp_path, name, *, purge):
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "seminars.tests.blocking_email_backend.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mailbox"),
        "BLOCKING_EMAIL_FLAG": str(tmp_path / "hold"),
        "SITE_URL": settings.SITE_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lms", "worker", "--pool=solo", "-Q", "celery"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        + (["--purge"] if purge else [])
        + ["-n", f"reminder-test-{uuid.uuid4().hex[:8]}@%h"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, what=f"worker {name} to start")
    assert process.poll() is None, f"The worker exited:\n{log.read_text()}"
    return process, log


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deliveries(mailbox: Path, address: str) -> int:
    texts = [path.read_text() for path in mailbox.glob("*")] if mailbox.exists() else []
    return sum(
        chunk.count(f"To: {address}")
        for text in texts
        for chunk in text.split("-" * 79)
        if "Subject: Reminder:" in chunk
    )


@pytest.fixture
def real_worker_mode():
    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = was


def test_a_reminder_is_delivered_once_when_its_worker_is_killed_mid_send(
    tmp_path, real_worker_mode, event, learner, editing_trainer
):
    mailbox = tmp_path / "mailbox"
    (tmp_path / "hold").write_text("hold every send")
    first, first_log = start_worker(tmp_path, "first", purge=True)
    second = None
    try:
        booking_create(event=event, user=learner, actor=learner)
        wait_for(lambda: (tmp_path / "sending").exists(), what="the confirmation's send to start")
        (tmp_path / "sending").unlink()
        (tmp_path / "hold").unlink()
        wait_for(lambda: OutboundEmail.objects.filter(state="sent").count() == 1, what="the confirmation")

        start = timezone.now() + timedelta(minutes=30)
        Session.objects.filter(event=event).update(start=start, finish=start + timedelta(hours=1))
        (tmp_path / "hold").write_text("hold every send")
        assert reminders_queue_task() == 2  # the learner's and the trainer's, queued to the broker
        wait_for(lambda: (tmp_path / "sending").exists(), what="a reminder's send to start")
        held = OutboundEmail.objects.get(kind="reminder", state=OutboundEmail.State.SENDING)

        os.kill(first.pid, signal.SIGKILL)  # kill -9 while the message is in the mail backend's hands
        first.wait(timeout=20)
        (tmp_path / "hold").unlink()
        assert deliveries(mailbox, held.to) == 0

        # The killed worker's claim lasts its lease; once it has run out, the sweep queues the row again.
        OutboundEmail.objects.filter(pk=held.pk).update(next_attempt_at=timezone.now() - REQUEUE_GRACE)
        second, second_log = start_worker(tmp_path, "second", purge=False)
        assert emails_requeue_task() >= 1
        wait_for(
            lambda: OutboundEmail.objects.filter(kind="reminder", state=OutboundEmail.State.SENT).count() == 2,
            what="both reminders to be sent",
        )

        # Everything again: the periodic run, the sweep, and a redelivered message.
        assert reminders_queue_task() == 0
        emails_requeue_task()
        email_send_task.delay(held.pk)
        wait_for(lambda: "'not claimed'" in second_log.read_text(), what="the redelivered message")

        assert deliveries(mailbox, learner.email) == 1
        assert deliveries(mailbox, editing_trainer.email) == 1
        assert OutboundEmail.objects.get(pk=held.pk).attempts == 2
    finally:
        stop(first)
        if second is not None:
            stop(second)
