"""Zoom's limits, counted where every worker sees them.

Per Zoom user and UTC day, at most 100 meeting create + update requests: a
row per (user, day) in the database, incremented with a conditional UPDATE,
so two workers can never both take the 100th unit. The count lives in the
database rather than Redis because it must survive a Redis restart: losing it
would send requests known to fail until midnight.

When Zoom refuses a create/update for the daily limit, its answer wins over
our count: with a Retry-After, nothing is sent before that time and counting
starts again from it (never "until midnight" when Zoom named another time);
with the message alone, the count is pinned at the limit until 00:00 UTC.

Per Zoom account and second, one bucket per Zoom rate-limit label (client.py:
create, listing meetings or registrants and changing registrants' status are
"Medium", batch registration "Heavy", the others "Light"): a token bucket in Redis (one Lua
script, Redis's own clock) when REDIS_URL is set, else a database row locked
for the refill. A caller waits briefly for a token, otherwise gets RateLimited
with a retry time a moment away.
"""

import logging
import math
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from virtualmeeting.errors import RateLimited
from virtualmeeting.selectors import resume_time
from virtualmeeting_zoom.models import ZoomDailyUsage, ZoomRateBucket
from virtualmeeting_zoom.options import DAILY_CREATE_UPDATE_LIMIT

logger = logging.getLogger(__name__)

# How long a worker may wait for a per-second token before giving the work back.
MAX_RATE_WAIT_SECONDS = 2.0


def _parse_retry_after(value: str, now: datetime) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def zoom_retry_at(headers, now: datetime) -> datetime | None:
    """The time a 429 of Zoom says to come back: Retry-After (an ISO datetime, or seconds), else X-RateLimit-Reset."""
    retry_at = _parse_retry_after(headers.get("Retry-After", ""), now)
    reset = headers.get("X-RateLimit-Reset", "").strip()
    if retry_at is None and reset.isdigit():
        retry_at = datetime.fromtimestamp(int(reset), tz=UTC)
    return retry_at


def quota_next_reset(now: datetime | None = None) -> datetime:
    """The next 00:00 UTC after `now`."""
    now = (now or timezone.now()).astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def daily_limit_error(retry_at: datetime, *, now: datetime | None = None) -> RateLimited:
    """The wait for a user's daily limit, saying the time it ends (the same words as the meeting's status)."""
    message = gettext("Waiting for Zoom's daily limit, resumes at %(time)s.") % {"time": resume_time(retry_at, now=now)}
    return RateLimited(message, retry_at=retry_at, daily=True)


def _today():
    return timezone.now().astimezone(UTC).date()


def daily_quota_resumes_at(zoom_user_id: str) -> datetime | None:
    """The time Zoom said this user may send creates/updates again, while it is still ahead."""
    rows = ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, resumes_at__gt=timezone.now())
    return rows.order_by("-resumes_at").values_list("resumes_at", flat=True).first()


def daily_quota_reserve(zoom_user_id: str, *, limit: int = DAILY_CREATE_UPDATE_LIMIT) -> None:
    """Take one create/update unit for today, or raise RateLimited(daily=True) without sending.

    The wait ends when Zoom said it does (Retry-After), else at 00:00 UTC.
    """
    resumes_at = daily_quota_resumes_at(zoom_user_id)
    if resumes_at is not None:
        raise daily_limit_error(resumes_at)
    day = _today()
    with transaction.atomic():
        try:
            with transaction.atomic():
                _, created = ZoomDailyUsage.objects.get_or_create(zoom_user_id=zoom_user_id, day=day)
            if created:
                # The user's first call of the day: earlier days are of no use any more.
                ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day__lt=day - timedelta(days=1)).delete()
        except IntegrityError:
            pass  # another worker created today's row first
        taken = ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=day, count__lt=limit).update(
            count=F("count") + 1
        )
    if not taken:
        raise daily_limit_error(quota_next_reset())


def daily_quota_release(zoom_user_id: str) -> None:
    """Give back a unit Zoom did not count (it refused the call at its per-second limit)."""
    ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=_today(), count__gt=0).update(count=F("count") - 1)


def daily_quota_exhaust(
    zoom_user_id: str, *, resumes_at: datetime | None = None, limit: int = DAILY_CREATE_UPDATE_LIMIT
) -> None:
    """Zoom said the user's daily limit is used up (other apps count too): stop sending until it ends.

    `resumes_at` is the time Zoom gave (Retry-After): nothing is sent before it and the count starts
    again at 0 from it, so the next attempt at that time is sent. Without one, the count is pinned at
    the limit, which holds everything until 00:00 UTC.
    """
    values = {"count": 0, "resumes_at": resumes_at} if resumes_at else {"count": limit, "resumes_at": None}
    day = _today()
    updated = ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=day).update(**values)
    if not updated:
        try:
            with transaction.atomic():
                ZoomDailyUsage.objects.create(zoom_user_id=zoom_user_id, day=day, **values)
        except IntegrityError:
            ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=day).update(**values)


def daily_quota_observe(zoom_user_id: str, remaining: int, *, limit: int = DAILY_CREATE_UPDATE_LIMIT) -> None:
    """Zoom told how many create/update requests the user has left today: never count fewer than it used."""
    used = max(0, min(limit, limit - remaining))
    day = _today()
    ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=day, count__lt=used).update(count=used)


def daily_quota_used(zoom_user_id: str) -> int:
    row = ZoomDailyUsage.objects.filter(zoom_user_id=zoom_user_id, day=_today()).first()
    return row.count if row else 0


# --- per-second token bucket --------------------------------------------------

# KEYS[1] bucket; ARGV[1] rate (tokens per second), ARGV[2] burst (most tokens held).
# Returns the seconds to wait (as a string: Lua numbers become integers), "0" when a token was taken.
_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


@lru_cache(maxsize=4)
def _redis(url: str):
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return client, client.register_script(_BUCKET_LUA)


# Zoom counts requests per whole second. A bucket that let a full second's worth through at once and
# refilled at the full rate could land up to twice the limit in one of Zoom's seconds. So the bucket
# holds a single token (requests are spaced evenly) and refills a little under the limit, leaving room
# for clock skew between our machines and Zoom's.
BUCKET_BURST = 1
RATE_MARGIN = 0.95


def _redis_take(url: str, key: str, rate: float) -> float:
    _, script = _redis(url)
    return float(script(keys=[key], args=[rate, BUCKET_BURST]))


def _database_take(key: str, rate: float) -> float:
    now = time.time()
    with transaction.atomic():
        bucket = ZoomRateBucket.objects.select_for_update().filter(key=key).first()
        if bucket is None:
            try:
                with transaction.atomic():
                    ZoomRateBucket.objects.create(key=key, tokens=BUCKET_BURST - 1, updated=now)
                return 0.0
            except IntegrityError:
                bucket = ZoomRateBucket.objects.select_for_update().get(key=key)
        tokens = min(BUCKET_BURST, bucket.tokens + max(0.0, now - bucket.updated) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        bucket.tokens = tokens
        bucket.updated = now
        bucket.save(update_fields=["tokens", "updated"])
    return wait


# The calls each bucket paces, in words for the people who read a wait (client.py's categories).
CALLS_OF_BUCKET = {
    "create": gettext_lazy("Zoom's Medium calls (creating meetings, lists, changes to registrations)"),
    "light": gettext_lazy("Zoom's Light calls (reading, changing and deleting meetings, single registrations)"),
    "heavy": gettext_lazy("Zoom's Heavy calls (registering people in batches)"),
}


def bucket_key(account_id: str, category: str) -> str:
    return f"zoom:rate:{account_id}:{category}"


def rate_take(key: str, rate: float) -> float:
    """Take a token from the shared bucket: 0.0 when taken, else the seconds until one is available.

    `rate` is the provider's limit per second; requests are let through evenly at RATE_MARGIN of it.
    """
    rate = rate * RATE_MARGIN
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            return _redis_take(url, key, rate)
        except redis.RedisError as exc:
            # A Redis outage must not stop meetings: the database bucket is slower but shared too.
            logger.warning("Zoom rate bucket in Redis unavailable (%s); using the database bucket.", type(exc).__name__)
    return _database_take(key, rate)


def rate_acquire(
    *, account_id: str, category: str, rate: float, max_wait: float = MAX_RATE_WAIT_SECONDS, sleep=time.sleep
) -> None:
    """Wait (at most `max_wait` seconds) for a per-second token of the account's bucket, else raise RateLimited."""
    if rate <= 0:
        return
    key = bucket_key(account_id or "unknown", category)
    deadline = time.monotonic() + max_wait
    while True:
        wait = rate_take(key, rate)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            retry_at = timezone.now() + timedelta(seconds=max(1, math.ceil(wait)))
            message = gettext("Waiting for Zoom's per-second limit on %(calls)s: %(rate)s a second.")
            calls = CALLS_OF_BUCKET.get(category, category)
            raise RateLimited(message % {"calls": calls, "rate": f"{rate:g}"}, retry_at=retry_at)
        sleep(wait)
