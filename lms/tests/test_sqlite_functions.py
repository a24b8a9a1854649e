"""lms.sqlite: split_part means on SQLite what it means on PostgreSQL (checked against PostgreSQL when it runs)."""

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.sqlite import split_part


@pytest.mark.parametrize(
    "text, delimiter, index, expected",
    [
        ("seminars.event:1:session:42:room:7", ":", 4, "42"),
        ("a:b", ":", 3, ""),
        ("a:b", ":", -1, "b"),
        ("", ":", 1, ""),
        ("abc", "", 1, "abc"),
        (None, ":", 1, None),
    ],
)
def test_split_part(text, delimiter, index, expected):
    assert split_part(text, delimiter, index) == expected


@pytest.mark.django_db
def test_the_database_answers_as_postgresql_does():
    with connection.cursor() as cursor:
        cursor.execute("SELECT split_part(%s, %s, %s), split_part(%s, %s, %s)", ["x:y:z", ":", 2, "x:y", ":", 5])
        assert cursor.fetchone() == ("y", "")


@pytest.mark.django_db
@settings(max_examples=80, deadline=None)
@given(
    text=st.text(alphabet="ab:.", max_size=12),
    delimiter=st.sampled_from([":", ".", "ab", "a"]),
    index=st.integers(min_value=1, max_value=6),
)
def test_generated_values_agree_with_the_database(text, delimiter, index):
    with connection.cursor() as cursor:
        cursor.execute("SELECT split_part(%s, %s, %s)", [text, delimiter, index])
        assert cursor.fetchone()[0] == split_part(text, delimiter, index)
