"""A small closed-loop HTTP load generator: N client threads, each sending its next request when the last is answered.

Bounded twice: at most `max_requests` requests and at most `seconds` of wall
time, whichever comes first, so a run always stops by itself. Loopback only:
it refuses any host that is not 127.0.0.1 or localhost.

http.client (not requests) keeps the client's own cost per request small, so
the client is less of a limit on fast pages; it reconnects by itself when the
server closes the connection after each answer (gunicorn's sync workers do).
"""

import http.client
import math
import statistics
import threading
import time
from dataclasses import dataclass, field

LOOPBACK = {"127.0.0.1", "localhost"}


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list = field(default_factory=list)
    error_samples: list = field(default_factory=list)

    def add(self, other: "LoadResult") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.error_samples.extend(other.error_samples[: 3 - len(self.error_samples)])

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """The q-th percentile latency (0 < q < 100) in milliseconds, nearest-rank."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0


def run_load(
    *,
    host: str,
    port: int,
    path: str,
    cookie: str,
    expect: bytes,
    concurrency: int,
    max_requests: int,
    seconds: float,
    timeout: float = 30.0,
) -> LoadResult:
    """GET `path` from `concurrency` threads until `max_requests` are sent or `seconds` have passed.

    A request counts as an error unless the answer is 200 and its body contains `expect`
    (so a login redirect or an error page is never mistaken for a fast page).
    """
    if host not in LOOPBACK:
        raise ValueError(f"The load generator only talks to loopback, not {host!r}.")
    headers = {"Host": host, "Cookie": cookie, "User-Agent": "lms-bench"} if cookie else {"Host": host}
    budget = {"left": max_requests}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    per_thread = [LoadResult() for _ in range(concurrency)]

    def take() -> bool:
        with lock:
            if budget["left"] <= 0 or time.perf_counter() >= deadline:
                return False
            budget["left"] -= 1
            return True

    def client(result: LoadResult) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            while take():
                began = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                    ok = response.status == 200 and expect in body
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    ok, body = False, repr(exc).encode()
                    response = None
                result.latencies.append(time.perf_counter() - began)
                result.requests += 1
                if not ok:
                    result.errors += 1
                    if len(result.error_samples) < 3:
                        status = response.status if response is not None else "no answer"
                        result.error_samples.append(f"{status}: {body[:200]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(r,), daemon=True) for r in per_thread]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + timeout + 5)
    total = LoadResult(seconds=0.0)
    for result in per_thread:
        total.add(
            LoadResult(
                requests=result.requests,
                errors=result.errors,
                latencies=result.latencies,
                error_samples=result.error_samples,
            )
        )
    total.seconds = time.perf_counter() - began
    return total
