"""Zoom's daily limit: the wait Zoom gives is the wait we keep, and the page says the same time throughout.

Zoom answers a create/update over the user's daily limit with a 429 that
either carries `Retry-After` (an ISO datetime) or only the message text.
Both variants run through the framework's sync, as a worker runs it, with
strict `responses` mocks: every stub must be used and nothing else is sent.
"""

from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from django.utils import timezone

from virtualmeeting.errors import RateLimited
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.selectors import meeting_status_text
from virtualmeeting.services import meeting_put
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.tests.conftest import API, ZOOM_USER_ID, meeting_json
from virtualmeeting_zoom.tests.test_meetings import spec

CREATE_URL = f"{API}/users/me/meetings"
MORNING = datetime(2026, 11, 28, 6, 50, tzinfo=UTC)
ZOOMS_TIME = datetime(2026, 11, 28, 7, 2, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this "
    "particular user. You may resume these requests at GMT 00:00:00."
)
DAILY_429 = {"code": 429, "message": DAILY_MESSAGE}


@pytest.fixture
def strict():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def owner(zoom_config, connection, clock):
    # Valid for the whole test day: no token refresh is part of these conversations.
    connection.expires_at = timezone.now() + timedelta(days=2)
    connection.save()
    return connection.user


def put(owner):
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    return meeting_put(
        reference="seminars.event:1:session:1:room:1",
        provider="zoom",
        owner=owner,
        topic="Safety training: Induction (session 1 of 1)",
        start=start,
        finish=start + timedelta(minutes=90),
        time_zone="Europe/London",
        agenda="Bring a hard hat.",
    )


def fresh(meeting):
    return VirtualMeeting.objects.get(pk=meeting.pk)


def shown(meeting) -> str:
    return meeting_status_text(fresh(meeting))


def test_daily_429_with_retry_after_is_retried_at_zooms_time(owner, strict, clock):
    strict.post(CREATE_URL, status=429, json=DAILY_429, headers={"Retry-After": "2026-11-28T07:02:00Z"})
    meeting = put(owner)

    assert meeting_sync(meeting.pk) == ["waiting"]
    row = fresh(meeting)
    assert row.waiting_daily_limit
    assert row.next_attempt_at == ZOOMS_TIME
    assert "resumes at 07:02 UTC" in row.last_error
    assert "resumes at 07:02 UTC" in shown(meeting)

    # Just before Zoom's time nothing is sent (the strict mock would refuse it), and the wait is the same.
    clock.move_to(ZOOMS_TIME - timedelta(seconds=1))
    with pytest.raises(RateLimited) as caught:
        limits.daily_quota_reserve(ZOOM_USER_ID)
    assert caught.value.retry_at == ZOOMS_TIME
    assert caught.value.message == "Waiting for Zoom's daily limit, resumes at 07:02 UTC."
    assert "resumes at 07:02 UTC" in shown(meeting)

    # At Zoom's time the create is sent: our count does not hold it until midnight.
    clock.move_to(ZOOMS_TIME)
    strict.post(CREATE_URL, status=201, json=meeting_json())
    assert meeting_sync(meeting.pk) == ["create"]
    row = fresh(meeting)
    assert (row.status, row.remote_id) == (VirtualMeeting.Status.AVAILABLE, "85746065432")
    assert row.last_error == ""
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1


def test_daily_429_with_retry_after_is_not_pinned_to_midnight_in_the_count(provider, connection, strict, clock):
    strict.post(CREATE_URL, status=429, json=DAILY_429, headers={"Retry-After": "2026-11-28T07:02:00Z"})
    strict.post(CREATE_URL, status=201, json=meeting_json())
    connection.expires_at = timezone.now() + timedelta(days=2)
    connection.save()

    with pytest.raises(RateLimited) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert (caught.value.daily, caught.value.retry_at) == (True, ZOOMS_TIME)
    assert caught.value.message == "Waiting for Zoom's daily limit, resumes at 07:02 UTC."

    clock.move_to(ZOOMS_TIME + timedelta(seconds=1))
    assert provider.create_meeting(connection=connection, spec=spec()).remote_id == "85746065432"


def test_daily_429_without_retry_after_waits_for_midnight_utc(owner, strict, clock):
    strict.post(CREATE_URL, status=429, json=DAILY_429)
    meeting = put(owner)

    assert meeting_sync(meeting.pk) == ["waiting"]
    row = fresh(meeting)
    assert row.waiting_daily_limit
    assert row.next_attempt_at == MIDNIGHT
    assert "resumes at 00:00 UTC" in row.last_error
    assert "resumes at 00:00 UTC" in shown(meeting)

    # The message was the only signal: the count holds everything until 00:00 UTC, and says so.
    clock.move_to(MIDNIGHT - timedelta(seconds=1))
    with pytest.raises(RateLimited) as caught:
        limits.daily_quota_reserve(ZOOM_USER_ID)
    assert caught.value.retry_at == MIDNIGHT
    assert caught.value.message == "Waiting for Zoom's daily limit, resumes at 00:00 UTC."
    assert "resumes at 00:00 UTC" in shown(meeting)

    clock.move_to(MIDNIGHT)
    strict.post(CREATE_URL, status=201, json=meeting_json())
    assert meeting_sync(meeting.pk) == ["create"]
    assert fresh(meeting).status == VirtualMeeting.Status.AVAILABLE
