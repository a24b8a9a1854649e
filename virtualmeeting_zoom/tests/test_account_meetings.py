"""Meetings of the site's Zoom account, made for a host, through the framework's sync, with Zoom stubbed strictly
by `responses` (every stub must be called): the host's path and the shared account token, the daily budget of the
host, a lost create found among the host's meetings, one renewal after a 401, a rate limit, a host that is not
in the account, and a host change. A trainer's own connection is never used or touched."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.services import connection_revoke, meeting_host_url, meeting_put
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.models import ZoomDailyUsage
from virtualmeeting_zoom.tests.conftest import API, TOKEN_URL, ZOOM_USER_ID, make_connection, meeting_json

HOST = "hOsT-uSeR-1"
OTHER_HOST = "oThEr-HoSt-2"
HOST_MEETINGS = f"{API}/users/{HOST}/meetings"
OTHER_MEETINGS = f"{API}/users/{OTHER_HOST}/meetings"
MEETING_URL = f"{API}/meetings/85746065432"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}


def grant(access="account-1"):
    scope = "meeting:write:meeting:admin meeting:read:meeting:admin user:read:list_users:admin"
    return {"access_token": access, "token_type": "bearer", "expires_in": 3599, "scope": scope}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def strict():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def account(zoom_config):
    zoom_config.account_id, zoom_config.account_client_id = "AcCoUnT-1", "s2sClientId"
    zoom_config.account_client_secret = "s2s-secret"
    zoom_config.hosting = "account"
    zoom_config.save()
    return zoom_config


def put(owner, host=HOST, **overrides):
    values = {
        "reference": "seminars.event:1:session:1:room:1",
        "provider": "zoom",
        "owner": owner,
        "topic": "Safety training: Induction (session 1 of 1)",
        "start": START,
        "finish": START + timedelta(minutes=90),
        "time_zone": "Europe/London",
        "agenda": "Bring a hard hat.",
        "hosting": "account",
        "host": host,
    }
    values.update(overrides)
    return meeting_put(**values)


def fresh(meeting):
    return VirtualMeeting.objects.get(pk=meeting.pk)


def make_due(meeting):
    VirtualMeeting.objects.filter(pk=meeting.pk).update(next_attempt_at=timezone.now())


def test_the_meeting_is_made_for_the_host_with_the_account_token(account, connection, strict):
    strict.post(TOKEN_URL, json=grant())
    create = strict.post(HOST_MEETINGS, status=201, json=meeting_json(host_id=HOST, host_email="hana@example.com"))
    meeting = put(connection.user)  # the owner has a connection of their own: it is not used

    assert meeting_sync(meeting.pk) == ["create"]

    assert create.calls[0].request.headers["Authorization"] == "Bearer account-1"
    assert json.loads(create.calls[0].request.body)["start_time"] == "2026-12-03T09:00:00"
    row = fresh(meeting)
    assert (row.status, row.remote_id, row.remote_host, row.host_email) == (
        "available",
        "85746065432",
        HOST,
        "hana@example.com",
    )
    # The daily 100 creates and updates are the host's, not the owner's Zoom user's.
    assert limits.daily_quota_used(HOST) == 1
    assert not ZoomDailyUsage.objects.filter(zoom_user_id=ZOOM_USER_ID).exists()
    assert ProviderConnection.objects.get(pk=connection.pk).access_token == "access-1"


def test_a_moved_session_is_updated_and_counted_for_the_host(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, status=201, json=meeting_json())
    meeting = put(trainer)
    meeting_sync(meeting.pk)
    update = strict.patch(MEETING_URL, status=204)

    put(trainer, start=START + timedelta(hours=2), finish=START + timedelta(hours=3, minutes=30))
    assert meeting_sync(meeting.pk) == ["update"]

    assert json.loads(update.calls[0].request.body)["start_time"] == "2026-12-03T11:00:00"
    assert update.calls[0].request.headers["Authorization"] == "Bearer account-1"
    assert limits.daily_quota_used(HOST) == 2


def test_the_hosts_daily_limit_waits_for_that_host_only(account, trainer, strict):
    limits.daily_quota_exhaust(HOST)
    strict.post(TOKEN_URL, json=grant())  # the token is fetched, then the budget says no before any call
    meeting = put(trainer)

    assert meeting_sync(meeting.pk) == ["waiting"]

    row = fresh(meeting)
    assert row.status == "waiting" and row.waiting_daily_limit
    assert row.next_attempt_at == datetime(2026, 11, 29, tzinfo=UTC)
    assert limits.daily_quota_used(OTHER_HOST) == 0


def test_zoom_per_second_limit_is_a_wait_not_a_failure(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    reset = int((NOW + timedelta(seconds=1)).timestamp()) + 1
    strict.post(
        HOST_MEETINGS,
        status=429,
        json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
        headers={"X-RateLimit-Type": "QPS", "X-RateLimit-Reset": str(reset)},
    )
    meeting = put(trainer)

    assert meeting_sync(meeting.pk) == ["waiting"]

    row = fresh(meeting)
    assert row.status == "waiting" and not row.waiting_daily_limit
    assert limits.daily_quota_used(HOST) == 0  # given back: Zoom counted nothing


def test_a_401_renews_the_account_token_once(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant("account-1"))
    strict.post(HOST_MEETINGS, status=401, json=INVALID_TOKEN)
    meeting = put(trainer)
    strict.post(TOKEN_URL, json=grant("account-2"))
    strict.post(HOST_MEETINGS, status=201, json=meeting_json())

    assert meeting_sync(meeting.pk) == ["create"]

    calls = [(c.request.url.split("?")[0], c.request.headers.get("Authorization", "")) for c in strict.calls]
    assert [(url, auth) for url, auth in calls if url == HOST_MEETINGS] == [
        (HOST_MEETINGS, "Bearer account-1"),
        (HOST_MEETINGS, "Bearer account-2"),
    ]
    assert [url for url, _ in calls].count(TOKEN_URL) == 2
    assert fresh(meeting).status == "available"


def test_a_token_refused_again_fails_the_meeting_for_the_admin_and_revokes_nobody(account, connection, strict):
    strict.post(TOKEN_URL, json=grant("account-1"))
    strict.post(TOKEN_URL, json=grant("account-2"))
    strict.post(HOST_MEETINGS, status=401, json=INVALID_TOKEN)
    strict.post(HOST_MEETINGS, status=401, json=INVALID_TOKEN)
    meeting = put(connection.user)

    assert meeting_sync(meeting.pk) == ["failed"]

    row = fresh(meeting)
    assert row.status == "failed"
    assert "Zoom refused the site's Zoom account token, also a new one" in row.last_error
    assert ProviderConnection.objects.get(pk=connection.pk).status == "connected"


def test_a_host_who_left_the_account_fails_the_meeting_in_words(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(
        HOST_MEETINGS,
        status=404,
        json={"code": 1001, "message": f"User {HOST} not exist or not belong to this account."},
    )
    meeting = put(trainer)

    assert meeting_sync(meeting.pk) == ["failed"]

    row = fresh(meeting)
    assert row.status == "failed" and not row.maybe_created
    assert row.last_error.startswith(
        f"The host {HOST} is not an active user of the site's Zoom account (Zoom error 1001): choose another host"
    )


def test_a_lost_create_is_found_among_the_hosts_meetings(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, body=requests.ReadTimeout("answer lost"))
    meeting = put(trainer)
    assert meeting_sync(meeting.pk) == ["retry"]
    row = fresh(meeting)
    assert row.maybe_created and not row.remote_id

    listed = {
        "id": 85746065432,
        "type": 2,
        "topic": row.topic,
        "start_time": "2026-12-03T09:00:00Z",
        "duration": 90,
        "timezone": "Europe/London",
        "created_at": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "join_url": "https://zoom.us/j/85746065432",
    }
    listing = strict.get(HOST_MEETINGS, json={"page_size": 300, "next_page_token": "", "meetings": [listed]})
    strict.get(MEETING_URL, json=meeting_json())
    make_due(meeting)

    assert meeting_sync(meeting.pk)[0] == "find (adopted)"

    assert listing.calls[0].request.params["type"] == "upcoming"
    row = fresh(meeting)
    assert (row.status, row.remote_id, row.remote_host) == ("available", "85746065432", HOST)
    assert len([c for c in strict.calls if c.request.method == "POST" and "/meetings" in c.request.url]) == 1


def test_a_new_host_gets_the_meeting_made_first_and_the_old_one_deleted_after(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, status=201, json=meeting_json())
    meeting = put(trainer)
    meeting_sync(meeting.pk)
    created = strict.post(OTHER_MEETINGS, status=201, json=meeting_json(meeting_id=85746065499))
    deleted = strict.delete(MEETING_URL, status=204)

    put(trainer, host=OTHER_HOST)
    # Made for the new host before the old one goes: learners always have a meeting to join.
    assert meeting_sync(meeting.pk) == ["create", "delete (owner changed)"]

    assert deleted.call_count == created.call_count == 1
    moves = [(c.request.method, c.request.url.split("?")[0]) for c in strict.calls if "/oauth/" not in c.request.url]
    assert moves[-2:] == [("POST", OTHER_MEETINGS), ("DELETE", MEETING_URL)]
    assert deleted.calls[0].request.headers["Authorization"] == "Bearer account-1"
    row = fresh(meeting)
    assert (row.status, row.remote_id, row.remote_host, row.old_remote_id) == (
        "available",
        "85746065499",
        OTHER_HOST,
        "",
    )
    # The delete spends nothing of either host's daily budget; the create is the new host's.
    assert (limits.daily_quota_used(HOST), limits.daily_quota_used(OTHER_HOST)) == (1, 1)


def test_a_new_host_whose_budget_is_spent_leaves_the_old_meeting_in_use(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, status=201, json=meeting_json())
    meeting = put(trainer)
    meeting_sync(meeting.pk)
    limits.daily_quota_exhaust(OTHER_HOST)

    put(trainer, host=OTHER_HOST)
    assert meeting_sync(meeting.pk) == ["waiting"]  # no call: the old meeting is not deleted

    row = fresh(meeting)
    assert (row.status, row.old_remote_id, row.joinable_url) == ("waiting", "85746065432", meeting_json()["join_url"])
    # "Host meeting" meanwhile starts the old meeting, for its host, with the account token.
    read = strict.get(MEETING_URL, json=meeting_json())
    assert meeting_host_url(meeting=row, user=trainer) == meeting_json()["start_url"]
    assert read.calls[0].request.headers["Authorization"] == "Bearer account-1"


def test_a_meeting_of_a_revoked_connection_is_deleted_with_the_account_token(account, trainer, strict):
    connection = make_connection(trainer, extra={"type": 2, "account_id": "AcCoUnT-1"})
    strict.post(f"{API}/users/me/meetings", status=201, json=meeting_json())
    meeting = put(trainer, hosting="user", host="")
    meeting_sync(meeting.pk)
    connection_revoke(connection=connection, message="The app was removed.")
    strict.post(TOKEN_URL, json=grant())
    created = strict.post(OTHER_MEETINGS, status=201, json=meeting_json(meeting_id=85746065499))
    deleted = strict.delete(MEETING_URL, status=204)

    put(trainer, host=OTHER_HOST)
    assert meeting_sync(meeting.pk) == ["create", "delete (with the site account)"]

    assert created.call_count == 1
    assert deleted.calls[0].request.headers["Authorization"] == "Bearer account-1"
    assert deleted.calls[0].request.params == {"schedule_for_reminder": "false"}
    row = fresh(meeting)
    assert (row.status, row.remote_id, row.remote_host, row.old_remote_id) == (
        "available",
        "85746065499",
        OTHER_HOST,
        "",
    )


def test_the_account_token_finding_the_old_meeting_gone_counts_it_deleted(account, trainer, strict):
    connection = make_connection(trainer, extra={"type": 2, "account_id": "AcCoUnT-1"})
    strict.post(f"{API}/users/me/meetings", status=201, json=meeting_json())
    meeting = put(trainer, hosting="user", host="")
    meeting_sync(meeting.pk)
    connection_revoke(connection=connection, message="The app was removed.")
    strict.post(TOKEN_URL, json=grant())
    strict.post(OTHER_MEETINGS, status=201, json=meeting_json(meeting_id=85746065499))
    strict.delete(MEETING_URL, status=404, json={"code": 3001, "message": "Meeting does not exist: 85746065432."})

    put(trainer, host=OTHER_HOST)
    assert meeting_sync(meeting.pk) == ["create", "delete (with the site account)"]
    assert fresh(meeting).status == "available"


def test_a_revoked_connection_in_another_zoom_account_leaves_its_meeting_behind(account, trainer, strict):
    connection = make_connection(trainer)  # the trainer's own Zoom account, not the site's
    strict.post(f"{API}/users/me/meetings", status=201, json=meeting_json())
    meeting = put(trainer, hosting="user", host="")
    meeting_sync(meeting.pk)
    connection_revoke(connection=connection, message="The app was removed.")
    strict.post(TOKEN_URL, json=grant())
    strict.post(OTHER_MEETINGS, status=201, json=meeting_json(meeting_id=85746065499))

    put(trainer, host=OTHER_HOST)
    assert meeting_sync(meeting.pk) == ["create", "delete (old meeting left behind)"]  # no DELETE sent

    assert fresh(meeting).status == "available"


def test_a_personal_meeting_beside_it_keeps_the_owners_connection(account, connection, strict):
    create = strict.post(f"{API}/users/me/meetings", status=201, json=meeting_json())
    meeting = put(connection.user, hosting="user", host="")

    assert meeting_sync(meeting.pk) == ["create"]

    assert create.calls[0].request.headers["Authorization"] == "Bearer access-1"
    row = fresh(meeting)
    assert (row.hosting, row.host, row.remote_host) == ("user", "", "")
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1
