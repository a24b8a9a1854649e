"""Zoom's limits: the per-user daily create+update quota, the three 429 variants, per-second buckets."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.utils import timezone, translation

from lms.testing.translations import use_catalog
from virtualmeeting.errors import RateLimited
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.models import ZoomDailyUsage, ZoomRateBucket
from virtualmeeting_zoom.tests.conftest import ZOOM_USER_ID, meeting_json
from virtualmeeting_zoom.tests.test_meetings import CREATE_URL, MEETING_ID, MEETING_URL, spec

DAILY_MESSAGE = (
    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this "
    "particular user. You may resume these requests at GMT 00:00:00."
)
LATE_EVENING = datetime(2026, 11, 28, 23, 50, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def fresh_connection(connection):
    connection.expires_at = timezone.now() + timedelta(minutes=55)
    connection.save()
    return connection


@pytest.fixture
def evening(connection):
    with time_machine.travel(LATE_EVENING, tick=True) as traveller:
        fresh_connection(connection)
        yield traveller


# --- the daily quota ----------------------------------------------------------------


def test_100_creates_and_updates_then_the_101st_is_not_sent(provider, connection, mocked, evening):
    create = mocked.post(CREATE_URL, status=201, json=meeting_json())
    patch = mocked.patch(MEETING_URL, status=204)
    for _ in range(60):
        provider.create_meeting(connection=connection, spec=spec())
    for number in range(40):
        provider.update_meeting(
            connection=connection, remote_id=MEETING_ID, spec=spec(topic=f"t{number}"), previous=spec()
        )
    with pytest.raises(RateLimited) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    with pytest.raises(RateLimited):
        provider.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(topic="z"), previous=spec())

    assert (create.call_count, patch.call_count) == (60, 40)
    assert caught.value.daily
    assert caught.value.retry_at == MIDNIGHT
    assert caught.value.message == "Waiting for Zoom's daily limit, resumes at 00:00 UTC."
    assert limits.daily_quota_used(ZOOM_USER_ID) == 100


def test_quota_resets_at_midnight_utc(provider, connection, mocked, evening):
    create = mocked.post(CREATE_URL, status=201, json=meeting_json())
    ZoomDailyUsage.objects.create(zoom_user_id=ZOOM_USER_ID, day=LATE_EVENING.date(), count=100)
    with pytest.raises(RateLimited):
        provider.create_meeting(connection=connection, spec=spec())
    assert create.call_count == 0

    evening.move_to(MIDNIGHT + timedelta(seconds=1))
    fresh_connection(connection)
    provider.create_meeting(connection=connection, spec=spec())
    assert create.call_count == 1
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1


def test_quota_is_per_zoom_user(provider, connection, mocked, evening):
    ZoomDailyUsage.objects.create(zoom_user_id="someone-else", day=LATE_EVENING.date(), count=100)
    mocked.post(CREATE_URL, status=201, json=meeting_json())
    provider.create_meeting(connection=connection, spec=spec())
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1


def test_gets_and_deletes_do_not_use_the_quota(provider, connection, mocked):
    mocked.get(MEETING_URL, json=meeting_json())
    mocked.delete(MEETING_URL, status=204)
    provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    provider.delete_meeting(connection=connection, remote_id=MEETING_ID)
    assert limits.daily_quota_used(ZOOM_USER_ID) == 0


def test_old_days_are_pruned_on_the_first_call_of_a_day(db):
    today = timezone.now().date()
    ZoomDailyUsage.objects.create(zoom_user_id="u", day=today - timedelta(days=5), count=100)
    ZoomDailyUsage.objects.create(zoom_user_id="u", day=today - timedelta(days=1), count=100)
    ZoomDailyUsage.objects.create(zoom_user_id="other", day=today - timedelta(days=5), count=3)
    limits.daily_quota_reserve("u")
    assert sorted(ZoomDailyUsage.objects.filter(zoom_user_id="u").values_list("day", flat=True)) == [
        today - timedelta(days=1),
        today,
    ]
    assert ZoomDailyUsage.objects.filter(zoom_user_id="other").count() == 1


def test_zooms_remaining_count_wins_over_ours(provider, connection, mocked, evening):
    # Another app of the same Zoom user already made 95 creates today.
    mocked.post(
        CREATE_URL,
        status=201,
        json=meeting_json(),
        headers={"X-RateLimit-Type": "Daily-limit", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "4"},
    )
    provider.create_meeting(connection=connection, spec=spec())
    assert limits.daily_quota_used(ZOOM_USER_ID) == 96
    for _ in range(4):
        provider.create_meeting(connection=connection, spec=spec())
    with pytest.raises(RateLimited):
        provider.create_meeting(connection=connection, spec=spec())


def test_per_second_headers_do_not_touch_the_daily_count(provider, connection, mocked, evening):
    mocked.post(
        CREATE_URL,
        status=201,
        json=meeting_json(),
        headers={"X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0"},
    )
    provider.create_meeting(connection=connection, spec=spec())
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1


def test_quota_reserve_is_conditional(db):
    ZoomDailyUsage.objects.create(zoom_user_id="u", day=timezone.now().date(), count=99)
    limits.daily_quota_reserve("u")
    with pytest.raises(RateLimited):
        limits.daily_quota_reserve("u")
    assert limits.daily_quota_used("u") == 100


# --- Zoom's 429 answers -------------------------------------------------------------


def test_429_daily_with_retry_after_iso_datetime(provider, connection, mocked, evening):
    mocked.post(
        CREATE_URL,
        status=429,
        json={"code": 429, "message": DAILY_MESSAGE},
        headers={"Retry-After": "2026-11-29T00:00:00Z", "X-RateLimit-Type": "Daily-limit"},
    )
    with pytest.raises(RateLimited) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert caught.value.daily
    assert caught.value.retry_at == MIDNIGHT
    # Zoom knows better than our count (other apps use the same quota): nothing more is sent before its time.
    with pytest.raises(RateLimited) as again:
        provider.create_meeting(connection=connection, spec=spec())
    assert again.value.retry_at == MIDNIGHT
    assert len(mocked.calls) == 1


def test_429_per_second_with_ratelimit_reset(provider, connection, mocked, evening):
    reset = int(LATE_EVENING.timestamp()) + 2
    mocked.get(
        MEETING_URL,
        status=429,
        json={
            "code": 429,
            "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
        },
        headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Type": "QPS", "X-RateLimit-Category": "Light"},
    )
    with pytest.raises(RateLimited) as caught:
        provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert not caught.value.daily
    assert caught.value.retry_at == LATE_EVENING + timedelta(seconds=2)
    assert limits.daily_quota_used(ZOOM_USER_ID) == 0


def test_429_daily_without_headers_is_read_from_the_message(provider, connection, mocked, evening):
    mocked.patch(MEETING_URL, status=429, json={"code": 429, "message": DAILY_MESSAGE})
    with pytest.raises(RateLimited) as caught:
        provider.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(topic="x"), previous=spec())
    assert caught.value.daily
    assert caught.value.retry_at == MIDNIGHT
    assert not caught.value.ambiguous


def test_429_per_second_without_headers_retries_shortly(provider, connection, mocked, evening):
    mocked.get(MEETING_URL, status=429, json={"code": 429, "message": "Too many requests. Try again later."})
    with pytest.raises(RateLimited) as caught:
        provider.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert not caught.value.daily
    assert LATE_EVENING < caught.value.retry_at <= LATE_EVENING + timedelta(seconds=5)


def test_daily_429_on_delete_is_honoured(provider, connection, mocked, evening):
    # Older docs counted deletes too.
    mocked.delete(MEETING_URL, status=429, json={"code": 429, "message": DAILY_MESSAGE})
    with pytest.raises(RateLimited) as caught:
        provider.delete_meeting(connection=connection, remote_id=MEETING_ID)
    assert caught.value.daily and caught.value.retry_at == MIDNIGHT


# --- per-second token buckets -------------------------------------------------------


def test_quota_next_reset():
    assert limits.quota_next_reset(datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)) == MIDNIGHT
    assert limits.quota_next_reset(MIDNIGHT) == MIDNIGHT + timedelta(days=1)


def test_database_bucket_spaces_requests_evenly(db):
    key = "zoom:rate:acct:create"
    waits = [limits._database_take(key, 3) for _ in range(2)]
    assert waits[0] == 0.0
    assert 0 < waits[1] <= 1 / 3
    bucket = ZoomRateBucket.objects.get(key=key)
    bucket.updated -= 1  # a second later a token is there again
    bucket.save()
    assert limits._database_take(key, 3) == 0.0


@pytest.mark.parametrize("rate", [2, 20, 30])
def test_no_whole_second_ever_gets_more_than_the_limit(db, settings, rate):
    """Zoom counts per whole second: workers taking tokens as fast as they are granted never exceed it."""
    settings.REDIS_URL = ""
    key = f"zoom:rate:acct:window{rate}"
    start = datetime(2030, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    granted = []
    with time_machine.travel(start, tick=False) as clock:
        moment = 0.0
        while moment < 5:
            wait = limits.rate_take(key, rate)
            if wait == 0.0:
                granted.append(start.timestamp() + moment)
            else:
                moment += wait
                clock.move_to(start + timedelta(seconds=moment))
    per_second = {}
    for t in granted:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    assert max(per_second.values()) <= rate
    assert len(granted) >= 0.9 * rate * 5  # and the limit is nearly used


def test_rate_acquire_waits_briefly_then_gives_up(db, settings):
    settings.REDIS_URL = ""
    slept = []
    limits.rate_acquire(account_id="acct", category="create", rate=2, sleep=slept.append)
    assert slept == []
    # The second call must wait about half a second: allowed within the bound.
    limits.rate_acquire(account_id="acct", category="create", rate=2, sleep=lambda s: (slept.append(s), time.sleep(s)))
    assert 0 < slept[0] <= 1 / (2 * limits.RATE_MARGIN)
    with pytest.raises(RateLimited) as caught:
        limits.rate_acquire(account_id="acct", category="create", rate=2, max_wait=0.0)
    assert not caught.value.daily
    assert caught.value.retry_at <= timezone.now() + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("category", "calls"),
    [
        ("heavy", "Zoom's Heavy calls (registering people in batches)"),
        ("create", "Zoom's Medium calls (creating meetings, lists, changes to registrations)"),
        ("light", "Zoom's Light calls (reading, changing and deleting meetings, single registrations)"),
    ],
)
def test_the_per_second_wait_says_which_calls_wait_in_plain_words(db, settings, category, calls):
    settings.REDIS_URL = ""
    limits.rate_acquire(account_id="acct", category=category, rate=2)
    with pytest.raises(RateLimited) as caught:
        limits.rate_acquire(account_id="acct", category=category, rate=2, max_wait=0.0)
    assert caught.value.message == f"Waiting for Zoom's per-second limit on {calls}: 2 a second."


def test_the_per_second_wait_is_translated(db, settings, tmp_path):
    settings.REDIS_URL = ""
    use_catalog(
        settings,
        tmp_path,
        "de",
        {
            "Waiting for Zoom's per-second limit on %(calls)s: %(rate)s a second.": (
                "Warten auf Zooms Sekundenlimit für %(calls)s: %(rate)s pro Sekunde."
            ),
            "Zoom's Heavy calls (registering people in batches)": "Zooms Heavy-Aufrufe (Sammelanmeldungen)",
        },
    )
    limits.rate_acquire(account_id="acct", category="heavy", rate=10)
    with translation.override("de"), pytest.raises(RateLimited) as caught:
        limits.rate_acquire(account_id="acct", category="heavy", rate=10, max_wait=0.0)
    assert (
        caught.value.message
        == "Warten auf Zooms Sekundenlimit für Zooms Heavy-Aufrufe (Sammelanmeldungen): 10 pro Sekunde."
    )


def test_create_waits_for_the_accounts_bucket(provider, connection, mocked, settings):
    settings.REDIS_URL = ""
    provider.config.options = {"create_per_second": 1}
    provider.config.save()
    # Workers on other machines have queued five creates ahead: a token is five seconds away.
    ZoomRateBucket.objects.create(
        key=limits.bucket_key("Q4NYNnaSQAuNPy3wi4p3Mw", "create"), tokens=-4, updated=time.time()
    )
    with pytest.raises(RateLimited):  # before any call: `mocked` has no route, so a call would fail otherwise
        provider.create_meeting(connection=connection, spec=spec())
    assert len(mocked.calls) == 0
    assert limits.daily_quota_used(ZOOM_USER_ID) == 0


def _redis_url(settings):
    return getattr(settings, "REDIS_URL", "") or "redis://127.0.0.1:6379/7"


def test_redis_bucket_is_shared_and_refills(settings):
    settings.REDIS_URL = _redis_url(settings)
    key = f"zoom:rate:test:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        waits = [limits.rate_take(key, 5) for _ in range(2)]
        assert waits[0] == 0.0
        assert 0 < waits[1] <= 1 / (5 * limits.RATE_MARGIN)
        time.sleep(0.25)
        assert limits.rate_take(key, 5) == 0.0
        assert 0 < client.ttl(key) <= 60
    finally:
        client.delete(key)


def test_redis_outage_falls_back_to_the_database_bucket(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert limits.rate_take("zoom:rate:fallback:create", 5) == 0.0
    assert ZoomRateBucket.objects.filter(key="zoom:rate:fallback:create").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_both_take_the_last_daily_unit():
    import threading

    from django.db import connection as db_connection

    ZoomDailyUsage.objects.create(zoom_user_id="u1", day=timezone.now().date(), count=99)
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        try:
            barrier.wait(timeout=5)
            limits.daily_quota_reserve("u1")
            outcomes.append("sent")
        except RateLimited:
            outcomes.append("waits")
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["sent", "waits", "waits", "waits"]
    assert limits.daily_quota_used("u1") == 100


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_first_use_of_the_day_by_concurrent_workers_counts_each_once():
    import threading

    from django.db import connection as db_connection

    barrier = threading.Barrier(5)

    def worker():
        try:
            barrier.wait(timeout=5)
            limits.daily_quota_reserve("u2")
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert limits.daily_quota_used("u2") == 5


def test_a_create_refused_at_the_per_second_limit_gives_its_daily_unit_back(provider, connection, mocked, evening):
    mocked.post(
        CREATE_URL,
        status=429,
        json={
            "code": 429,
            "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
        },
        headers={"X-RateLimit-Type": "QPS", "X-RateLimit-Category": "Medium"},
    )
    with pytest.raises(RateLimited) as caught:
        provider.create_meeting(connection=connection, spec=spec())
    assert not caught.value.daily
    assert limits.daily_quota_used(ZOOM_USER_ID) == 0  # Zoom did not count it, nor do we
