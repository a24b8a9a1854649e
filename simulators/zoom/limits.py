"""Zoom's rate limits on the simulator clock: per-account per-second buckets and the per-user daily quota."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from simulators.zoom.web import Response, json_response

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests permitted for this "
    "particular user. You may resume these requests at GMT 00:00:00."
)

DEFAULT_PER_SECOND = {
    "free": {"Light": 4, "Medium": 2, "Heavy": 1},
    "pro": {"Light": 30, "Medium": 20, "Heavy": 10},
    "business": {"Light": 80, "Medium": 60, "Heavy": 40},
}
DEFAULT_DAILY_LIMIT = 100
DEFAULT_MAX_REGISTRANTS = 4999  # per meeting (the OpenAPI spec's "Add a meeting registrant")
DEFAULT_PARTICIPANTS_DELAY = 300  # Zoom has a past meeting's participants some minutes after it ends
# "full": the fields Zoom answers today (join_time, leave_time, duration, registrant_id, ...);
# "spec": only the OpenAPI spec's (2.0.0) id, name, user_email.
PAST_PARTICIPANTS_VARIANTS = ("full", "spec")
DAILY_VARIANTS = ("full", "bare")  # "bare": no Retry-After, no X-RateLimit-Type, the message is the only signal


def utc_day(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%d")


def next_midnight(unix_seconds: float) -> datetime:
    today = datetime.fromtimestamp(unix_seconds, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


class Limits:
    def __init__(self, sim):
        self.sim = sim
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, int], int] = {}
        self.load()

    def load(self) -> None:
        store = self.sim.store
        self.per_second = store.get_setting("per_second", DEFAULT_PER_SECOND)
        self.daily_limit = int(store.get_setting("daily_limit", DEFAULT_DAILY_LIMIT))
        self.daily_variant = store.get_setting("daily_variant", "full")
        # Older Zoom docs counted deletes in the daily quota too; off by default, as newer docs say.
        self.daily_counts_deletes = bool(store.get_setting("daily_counts_deletes", False))
        # Zoom also sends meeting.created/updated/deleted for changes made through the API; off by default.
        self.api_change_webhooks = bool(store.get_setting("api_change_webhooks", False))
        self.max_registrants = int(store.get_setting("max_registrants", DEFAULT_MAX_REGISTRANTS))
        self.participants_delay_seconds = float(
            store.get_setting("participants_delay_seconds", DEFAULT_PARTICIPANTS_DELAY)
        )
        self.past_participants_variant = store.get_setting("past_participants_variant", "full")
        with self._lock:
            self._windows.clear()

    def configure(
        self,
        *,
        per_second=None,
        daily_limit=None,
        daily_variant=None,
        daily_counts_deletes=None,
        api_change_webhooks=None,
        max_registrants=None,
        participants_delay_seconds=None,
        past_participants_variant=None,
    ) -> None:
        store = self.sim.store
        if per_second is not None:
            merged = {plan: dict(values) for plan, values in self.per_second.items()}
            for plan, values in per_second.items():
                merged.setdefault(plan, {}).update({key: int(value) for key, value in values.items()})
            store.set_setting("per_second", merged)
        if daily_limit is not None:
            store.set_setting("daily_limit", int(daily_limit))
        if daily_variant is not None:
            if daily_variant not in DAILY_VARIANTS:
                raise ValueError(f"daily_variant must be one of {', '.join(DAILY_VARIANTS)}")
            store.set_setting("daily_variant", daily_variant)
        if daily_counts_deletes is not None:
            store.set_setting("daily_counts_deletes", bool(daily_counts_deletes))
        if api_change_webhooks is not None:
            store.set_setting("api_change_webhooks", bool(api_change_webhooks))
        if max_registrants is not None:
            store.set_setting("max_registrants", int(max_registrants))
        if participants_delay_seconds is not None:
            if float(participants_delay_seconds) < 0:
                raise ValueError("participants_delay_seconds must be 0 or more")
            store.set_setting("participants_delay_seconds", float(participants_delay_seconds))
        if past_participants_variant is not None:
            if past_participants_variant not in PAST_PARTICIPANTS_VARIANTS:
                raise ValueError(f"past_participants_variant must be one of {', '.join(PAST_PARTICIPANTS_VARIANTS)}")
            store.set_setting("past_participants_variant", past_participants_variant)
        self.load()

    def as_dict(self) -> dict:
        return {
            "per_second": self.per_second,
            "daily_limit": self.daily_limit,
            "daily_variant": self.daily_variant,
            "daily_counts_deletes": self.daily_counts_deletes,
            "api_change_webhooks": self.api_change_webhooks,
            "max_registrants": self.max_registrants,
            "participants_delay_seconds": self.participants_delay_seconds,
            "past_participants_variant": self.past_participants_variant,
        }

    def qps_limit(self, plan: str, category: str) -> int:
        return int(self.per_second.get(plan, self.per_second["pro"]).get(category, 30))

    def take_second(self, account_id: str, plan: str, category: str) -> tuple[bool, int, int, int]:
        """Count one request in this second's window: (allowed, limit, remaining, reset unix second)."""
        second = int(self.sim.clock.now())
        limit = self.qps_limit(plan, category)
        key = (account_id, category, second)
        with self._lock:
            for old in [k for k in self._windows if k[2] < second - 2]:
                del self._windows[old]
            used = self._windows.get(key, 0)
            if used >= limit:
                return False, limit, 0, second + 1
            self._windows[key] = used + 1
            return True, limit, limit - used - 1, second + 1

    def daily_used(self, user_id: str) -> int:
        row = self.sim.store.one(
            "SELECT count FROM daily_counts WHERE user_id = ? AND day = ?", (user_id, utc_day(self.sim.clock.now()))
        )
        return row["count"] if row else 0

    def set_daily_used(self, user_id: str, used: int) -> None:
        self.sim.store.run(
            "INSERT INTO daily_counts (user_id, day, count) VALUES (?, ?, ?)"
            " ON CONFLICT(user_id, day) DO UPDATE SET count = excluded.count",
            (user_id, utc_day(self.sim.clock.now()), int(used)),
        )

    def take_daily(self, user_id: str) -> bool:
        """Count one create/update for the host user today (UTC); False when the quota is spent."""
        with self.sim.store.lock:
            used = self.daily_used(user_id)
            if used >= self.daily_limit:
                return False
            self.set_daily_used(user_id, used + 1)
            return True

    def qps_exceeded(self, limit: int, reset: int) -> Response:
        response = json_response(429, {"code": 429, "message": QPS_MESSAGE})
        return (
            response.header("X-RateLimit-Type", "QPS")
            .header("X-RateLimit-Limit", limit)
            .header("X-RateLimit-Remaining", 0)
            .header("X-RateLimit-Reset", reset)
        )

    def daily_exceeded(self) -> Response:
        response = json_response(429, {"code": 429, "message": DAILY_MESSAGE.format(limit=self.daily_limit)})
        if self.daily_variant == "full":
            reset = next_midnight(self.sim.clock.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
            response.header("Retry-After", reset).header("X-RateLimit-Type", "Daily-limit").header(
                "X-RateLimit-Limit", self.daily_limit
            ).header("X-RateLimit-Remaining", 0)
        return response
