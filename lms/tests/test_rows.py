"""lms.rows.Statement: a hand-written statement PostgreSQL plans once per connection, and its rows are the same
as the SQL's run as written."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
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
