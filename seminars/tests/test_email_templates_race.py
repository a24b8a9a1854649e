"""Two people save the first copy of a template at once (PostgreSQL, real threads and connections)."""

import threading
import time

import pytest
from django.db import connection, transaction

from seminars.email_types import email_type
from seminars.models import EmailTemplate
from seminars.services.email_templates import email_template_save

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKED = email_type("booked")


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_second_first_save_waits_and_updates_the_row_the_first_made(seminar, site_admin, editing_trainer):
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                email_template_save(kind=BOOKED, seminar=seminar, subject="First", body="First", actor=site_admin)
                inserted.set()
                release.wait(timeout=20)
            results["first"] = "saved"
        finally:
            connection.close()

    def second():
        try:
            inserted.wait(timeout=20)
            email_template_save(kind=BOOKED, seminar=seminar, subject="Second", body="Second", actor=editing_trainer)
            results["second"] = "saved"
        except Exception as error:  # reported by the assertion below
            results["second"] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while backends_waiting_for_a_lock() == 0:  # the second insert waits on the first's uncommitted row
        assert time.monotonic() < deadline, "the second save never waited for the first"
        time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert results == {"first": "saved", "second": "saved"}
    row = EmailTemplate.objects.get()
    assert (row.seminar, row.subject, row.updated_by) == (seminar, "Second", editing_trainer)
