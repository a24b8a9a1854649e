"""HTTP plumbing every simulator shares: the request/response pair over http.server, the request log, the
clock tests move, and the threaded server that hands each request to a simulator's `dispatch`.

A simulator object (`sim`) gives the server: `dispatch(req) -> Response`, `request_log`, `clock`, `stopping`
(a threading.Event), `server_version` and `internal_error() -> Response` (its own error body for a bug).
"""

from __future__ import annotations

import html
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

MAX_BODY = 1024 * 1024
esc = html.escape


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    route: str = ""  # set by the router: "meetings.create", "oauth.token", ...
    raw_path: str = ""  # the path as sent, still percent-encoded (`path` is decoded once)

    @property
    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:
            return {}
        return {key: morsel.value for key, morsel in jar.items()}

    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", "") and self.method != "POST":
            return {}
        try:
            text = self.body.decode()
        except UnicodeDecodeError:
            return {}
        return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}

    def json(self):
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode() or "null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # "close": drop the connection without an answer; "hang": wait `hang_seconds`, then drop it.
    action: str = ""
    hang_seconds: float = 0.0

    def header(self, name: str, value) -> Response:
        self.headers.append((name, str(value)))
        return self

    def get_header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_response(status: int, payload) -> Response:
    return Response(status, json.dumps(payload).encode(), [("Content-Type", "application/json;charset=UTF-8")])


def empty_response(status: int = 204) -> Response:
    return Response(status, b"")


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", [("Location", location)])


def with_query(url: str, params: dict[str, str]) -> str:
    params = {key: value for key, value in params.items() if value is not None}
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class RequestLog:
    """What the simulator answered (admin calls excluded), for tests that count calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0

    def add(self, entry: dict) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, **entry})
            del self._entries[:-20000]

    def since(self, seq: int) -> list[dict]:
        with self._lock:
            return [entry for entry in self._entries if entry["seq"] > seq]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Clock:
    """Real time plus an offset that tests move through the admin API; kept in the store (any object with
    get_setting/set_setting). A frozen clock stands still until it is moved or unfrozen."""

    def __init__(self, store):
        self.store = store
        self.offset = float(store.get_setting("clock_offset", 0.0))
        self.frozen_at = store.get_setting("clock_frozen_at", None)

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at
        return time.time() + self.offset

    def _save(self) -> None:
        self.store.set_setting("clock_offset", self.offset)
        self.store.set_setting("clock_frozen_at", self.frozen_at)

    def set_offset(self, seconds: float) -> None:
        self.offset = float(seconds)
        if self.frozen_at is not None:
            self.frozen_at = time.time() + self.offset
        self._save()

    def set_now(self, unix_seconds: float) -> None:
        self.set_offset(unix_seconds - time.time())
        if self.frozen_at is not None:
            self.frozen_at = float(unix_seconds)
            self._save()

    def advance(self, seconds: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at += float(seconds)
        self.offset += float(seconds)
        self._save()

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = self.now()
        elif not frozen and self.frozen_at is not None:
            # Resume from where the frozen clock stood.
            self.offset = self.frozen_at - time.time()
            self.frozen_at = None
        self._save()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""

    @property
    def server_version(self):  # the stdlib reads it as an attribute
        return self.server.sim.server_version

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle plus delayed ACK add ~40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self):
        sim = self.server.sim
        started = time.monotonic()
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(json_response(413, {"code": 413, "message": "Request body too large."}))
            return
        body = self.rfile.read(length) if length else b""
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {key.lower(): value for key, value in self.headers.items()}
        req = Request(self.command, unquote(parts.path), query, headers, body, raw_path=parts.path)
        try:
            response = sim.dispatch(req)
        except Exception:  # a bug in the simulator must not look like a network fault
            self.server.handle_error(self.request, self.client_address)
            response = sim.internal_error()
        if not req.path.startswith("/_sim"):
            sim.request_log.add(
                {
                    "method": req.method,
                    "path": req.path,
                    "route": req.route or "unknown",
                    "status": response.status if not response.action else response.action,
                    "time": sim.clock.now(),
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user": getattr(req, "user_email", ""),
                }
            )
        if response.action == "hang":
            sim.stopping.wait(response.hang_seconds)
            self._drop()
        elif response.action == "close":
            self._drop()
        else:
            self._send(response)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, response: Response):
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim, verbose: bool = False):
        self.sim = sim
        self.verbose = verbose
        super().__init__(address, Handler)


def serve_in_thread(httpd: SimHTTPServer, name: str) -> threading.Thread:
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return thread


# --- the admin API (/_sim/...), both sides ---------------------------------------------------------------------
class AdminError(Exception):
    """An admin API call the simulator refuses: the message and the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def admin_body(req: Request) -> dict:
    """An admin call's JSON object body ({} when empty); AdminError for anything else."""
    if not req.body:
        return {}
    try:
        body = req.json()
    except ValueError as exc:
        raise AdminError("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise AdminError("the body must be a JSON object")
    return body


class AdminAPIError(Exception):
    pass


class AdminClient:
    """A test's or a script's client of a simulator's admin API (stdlib only: usable from any process)."""

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        url = f"{self.url}/_sim/{path.lstrip('/')}"
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise AdminAPIError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc

    def clock(self) -> dict:
        return self.call("GET", "clock")

    def freeze_clock(self, frozen: bool = True) -> dict:
        return self.call("POST", "clock", {"freeze": frozen})
