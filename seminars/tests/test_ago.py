"""The notification bell's "3 minutes ago": remembered per whole minute under four weeks, it reads exactly as Django's
timesince on the moment itself, at any moment and any time after it."""

from datetime import UTC, datetime, timedelta

from django.utils.timesince import timesince
from django.utils.translation import override
from hypothesis import given
from hypothesis import strategies as st

from seminars.templatetags.seminar_time import ago_text

moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC))
elapsed = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=70))
near_boundaries = st.builds(
    lambda days, minutes, micros: timedelta(days=days, minutes=minutes, microseconds=micros),
    st.sampled_from([0, 1, 6, 7, 13, 27, 28, 29, 30, 31]),
    st.integers(0, 1440),
    st.sampled_from([0, 1, 999_999, 59_999_999]),
)


def _expected(moment, now):
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now)} ago"


@given(moment=moments, after=elapsed | near_boundaries)
def test_ago_reads_as_timesince_at_any_moment(moment, after):
    with override("en"):
        assert ago_text(moment, moment + after) == _expected(moment, moment + after)


def test_ago_in_words():
    moment = datetime(2026, 3, 31, 9, 30, 15, 500_000, tzinfo=UTC)
    with override("en"):
        assert ago_text(moment, moment + timedelta(seconds=59)) == "just now"
        assert ago_text(moment, moment + timedelta(minutes=3, seconds=59)) == "3\xa0minutes ago"
        assert ago_text(moment, moment + timedelta(days=2, hours=5)) == "2\xa0days, 5\xa0hours ago"
        assert ago_text(moment, moment + timedelta(days=45)) == "1\xa0month, 2\xa0weeks ago"
