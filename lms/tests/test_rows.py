"""lms.rows.Statement: a hand-written statement PostgreSQL plans once per connection, and its rows are the same
as the SQL's run as written."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from lms.rows import Statement

pytestmark = pytest.mark.django_db

User = get_user_model()

NAMES = Statement(
    "lms_test_user_names",
    'SELECT u."username", %s || u."username" FROM "auth_user" u WHERE u."id" = %s AND u."is_active" = %s',
)


@pytest.fixture
def ann(db):
    return User.objects.create_user("ann")


def test_a_statement_reads_its_row_with_the_values_given(ann):
    assert NAMES.fetchone(["hello ", ann.pk, True]) == ("ann", "hello ann")
    assert NAMES.fetchone(["bye ", ann.pk, True]) == ("ann", "bye ann")
    assert NAMES.fetchone(["hello ", ann.pk, False]) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_prepares_it_once_per_connection_and_a_rollback_keeps_it(ann):
    connection.close()  # a new connection: nothing prepared on it
    with CaptureQueriesContext(connection) as first:
        with pytest.raises(RuntimeError), transaction.atomic():
            assert NAMES.fetchone(["hello ", ann.pk, True]) == ("ann", "hello ann")
            raise RuntimeError("the request failed after reading")
    with CaptureQueriesContext(connection) as then:
        assert NAMES.fetchone(["bye ", ann.pk, True]) == ("ann", "bye ann")

    asked = [q["sql"] for q in first.captured_queries + then.captured_queries if q["sql"].startswith(("PREP", "EXEC"))]
    assert [sql.split()[0] for sql in asked] == [
        "PREPARE",
        "EXECUTE",
        "EXECUTE",
    ]
    assert asked[0].startswith('PREPARE lms_test_user_names AS SELECT u."username", $1 || u."username"')

    connection.close()
    with CaptureQueriesContext(connection) as again:
        assert NAMES.fetchone(["hi ", ann.pk, True]) == ("ann", "hi ann")
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["PREPARE", "EXECUTE"]


def _new_request(conn):
    """What Django does to a kept connection when a request starts (close_old_connections): its health check is due
    again. The tests' connections have no maximum age to keep them open across requests, so it is set here."""
    conn.health_check_enabled = True
    conn.close_at = None
    conn.close_if_unusable_or_obsolete()
    assert conn.connection is not None and not conn.health_check_done


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_is_not_asked_select_1_before_the_statement(ann):
    NAMES.fetchone(["hello ", ann.pk, True])  # the connection is open, the statement prepared
    _new_request(connection)
    with mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as is_usable:
        assert NAMES.fetchone(["hello ", ann.pk, True]) == ("ann", "hello ann")
        assert User.objects.filter(pk=ann.pk).exists()  # the request's next query: no check either
    assert is_usable.call_count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_closed_is_opened_again_and_the_statement_still_answers(ann):
    NAMES.fetchone(["hello ", ann.pk, True])
    killed = connection.connection.info.backend_pid
    _terminate(killed)  # the database restarted, or an administrator ended the session, between two requests
    _new_request(connection)
    with mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as is_usable:
        assert NAMES.fetchone(["bye ", ann.pk, True]) == ("ann", "bye ann")
    assert is_usable.call_count == 1  # asked once, after the statement failed
    assert connection.connection.info.backend_pid != killed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_a_closed_connection_is_an_error_not_a_new_connection(ann):
    NAMES.fetchone(["hello ", ann.pk, True])
    with pytest.raises(OperationalError), transaction.atomic():
        _terminate(connection.connection.info.backend_pid)
        NAMES.fetchone(["bye ", ann.pk, True])  # what the transaction did so far is gone: it must not go on
    connection.close()


def _terminate(pid: int) -> None:
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
