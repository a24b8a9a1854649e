"""Faults on demand: rates per route from a seeded random generator, and a queue of forced faults."""

from __future__ import annotations

import random
import threading

ROUTES = (
    "oauth.token",
    "oauth.revoke",
    "users.me",
    "users.list",
    "meetings.create",
    "meetings.list",
    "meetings.get",
    "meetings.update",
    "meetings.delete",
    "registrants.create",
    "registrants.batch",
    "registrants.list",
    "registrants.status",
    "past_participants.list",
    "recordings.get",
)
KINDS = ("error_500", "error_502", "timeout", "drop", "rate_429")
DROP_MODES = ("close", "504")


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self, seed: int = 0) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)
            self.rates: dict[str, dict[str, float]] = {}
            self.delay_ms: dict[str, int] = {}
            self.queued: dict[str, list[str]] = {}
            self.timeout_seconds = 30.0
            self.drop_mode = "close"

    def configure(self, payload: dict) -> None:
        """Apply {"route", rates..., "delay_ms"} and/or global {"seed", "timeout_seconds", "drop_mode"}."""
        with self._lock:
            if "seed" in payload:
                self.seed = int(payload["seed"])
                self._rng = random.Random(self.seed)
            if "timeout_seconds" in payload:
                self.timeout_seconds = float(payload["timeout_seconds"])
            if "drop_mode" in payload:
                if payload["drop_mode"] not in DROP_MODES:
                    raise ValueError(f"drop_mode must be one of {', '.join(DROP_MODES)}")
                self.drop_mode = payload["drop_mode"]
            route = payload.get("route")
            if route is None:
                if any(kind in payload for kind in (*KINDS, "delay_ms")):
                    raise ValueError("route is required with fault rates (a route name or '*')")
                return
            _check_route(route)
            rates = self.rates.setdefault(route, {})
            for kind in KINDS:
                if kind in payload:
                    value = float(payload[kind])
                    if not 0 <= value <= 1:
                        raise ValueError(f"{kind} must be between 0 and 1")
                    rates[kind] = value
            if sum(rates.values()) > 1:
                raise ValueError("the fault rates of one route add up to more than 1")
            if "delay_ms" in payload:
                self.delay_ms[route] = int(payload["delay_ms"])

    def enqueue(self, route: str, kind: str, count: int = 1) -> None:
        _check_route(route)
        if kind not in KINDS:
            raise ValueError(f"fault must be one of {', '.join(KINDS)}")
        with self._lock:
            self.queued.setdefault(route, []).extend([kind] * int(count))

    def pick(self, route: str) -> tuple[str, int]:
        """The fault for this request ("" for none) and the delay in ms."""
        with self._lock:
            delay = self.delay_ms.get(route, self.delay_ms.get("*", 0))
            for key in (route, "*"):
                if self.queued.get(key):
                    return self.queued[key].pop(0), delay
            rates = self.rates.get(route) or self.rates.get("*")
            if not rates:
                return "", delay
            roll = self._rng.random()
            edge = 0.0
            for kind in KINDS:
                edge += rates.get(kind, 0.0)
                if roll < edge:
                    return kind, delay
            return "", delay

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "seed": self.seed,
                "rates": self.rates,
                "delay_ms": self.delay_ms,
                "queued": self.queued,
                "timeout_seconds": self.timeout_seconds,
                "drop_mode": self.drop_mode,
                "routes": list(ROUTES),
            }


def _check_route(route: str) -> None:
    if route != "*" and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}: one of {', '.join(ROUTES)} or '*'")
