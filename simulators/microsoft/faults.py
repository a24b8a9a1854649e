"""Faults by route: rates from a seeded random generator, and a queue of forced faults."""

from __future__ import annotations

import random
import threading

ROUTES = (
    "identity.authorize",
    "identity.token",
    "graph.me",
    "graph.meetings.create",
    "graph.meetings.createOrGet",
    "graph.meetings.get",
    "graph.meetings.update",
    "graph.meetings.delete",
)
# error_503 and rate_429 carry Retry-After (retry_after seconds); timeout hangs, then drops the connection;
# drop applies the call and then drops the connection (a lost answer).
KINDS = ("error_500", "error_503", "error_504", "rate_429", "timeout", "drop")


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self, seed: int = 0) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)
            self.rates: dict[str, dict[str, float]] = {}
            self.queued: dict[str, list[str]] = {}
            self.retry_after = 2
            self.timeout_seconds = 30.0

    def configure(self, payload: dict) -> None:
        """Apply {"route", rates...} and/or global {"seed", "retry_after", "timeout_seconds"}."""
        with self._lock:
            if "seed" in payload:
                self.seed = int(payload["seed"])
                self._rng = random.Random(self.seed)
            if "retry_after" in payload:
                self.retry_after = int(payload["retry_after"])
            if "timeout_seconds" in payload:
                self.timeout_seconds = float(payload["timeout_seconds"])
            route = payload.get("route")
            if route is None:
                if any(kind in payload for kind in KINDS):
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

    def enqueue(self, route: str, kind: str, count: int = 1) -> None:
        _check_route(route)
        if kind not in KINDS:
            raise ValueError(f"fault must be one of {', '.join(KINDS)}")
        with self._lock:
            self.queued.setdefault(route, []).extend([kind] * int(count))

    def pick(self, route: str) -> str:
        """The fault for this request ("" for none)."""
        with self._lock:
            for key in (route, "*"):
                if self.queued.get(key):
                    return self.queued[key].pop(0)
            rates = self.rates.get(route) or self.rates.get("*")
            if not rates:
                return ""
            roll, edge = self._rng.random(), 0.0
            for kind in KINDS:
                edge += rates.get(kind, 0.0)
                if roll < edge:
                    return kind
            return ""

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "seed": self.seed,
                "rates": self.rates,
                "queued": self.queued,
                "retry_after": self.retry_after,
                "timeout_seconds": self.timeout_seconds,
                "routes": list(ROUTES),
                "kinds": list(KINDS),
            }


def _check_route(route: str) -> None:
    if route != "*" and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}: one of {', '.join(ROUTES)} or '*'")
