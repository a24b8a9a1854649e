"""The HTTP server: routing, faults, the request log, and `start_server` for tests."""

from __future__ import annotations

import re
import threading

from simulators.common import Clock, Request, RequestLog, Response, SimHTTPServer, json_response, serve_in_thread
from simulators.microsoft import admin, graph, identity
from simulators.microsoft.client import AdminClient
from simulators.microsoft.faults import Faults
from simulators.microsoft.seed import CLIENT_ID, DEFAULT_REDIRECT_URI, seed
from simulators.microsoft.store import Store
from simulators.microsoft.web import aad_error, graph_error, page

TENANT = r"/(?P<tenant>[A-Za-z0-9.-]+)"
MEETING = r"/v1\.0/me/onlineMeetings/(?P<meeting_id>(?!createOrGet$)[^/]+)"
# (method, path pattern matched on the path as sent, route name for faults and the log, view)
ROUTES = [
    ("GET", TENANT + r"/oauth2/v2\.0/authorize", "identity.authorize", identity.authorize),
    ("POST", TENANT + r"/login", "identity.signin", identity.signin),
    ("POST", TENANT + r"/oauth2/v2\.0/consent", "identity.consent", identity.decision),
    ("POST", TENANT + r"/oauth2/v2\.0/token", "identity.token", identity.token),
    ("GET", TENANT + r"/oauth2/v2\.0/logout", "identity.logout", identity.logout),
    ("GET", r"/v1\.0/me", "graph.me", graph.me),
    ("POST", r"/v1\.0/me/onlineMeetings", "graph.meetings.create", graph.with_caller(graph.create)),
    (
        "POST",
        r"/v1\.0/me/onlineMeetings/createOrGet",
        "graph.meetings.createOrGet",
        graph.with_caller(graph.create_or_get),
    ),
    ("GET", MEETING, "graph.meetings.get", graph.with_caller(graph.get, scopes=graph.MEETING_SCOPES_READ)),
    ("PATCH", MEETING, "graph.meetings.update", graph.with_caller(graph.update)),
    ("DELETE", MEETING, "graph.meetings.delete", graph.with_caller(graph.delete)),
    ("GET", r"/l/meetup-join/(?P<thread>[^/]+)/0", "page.join", graph.join_page),
]
COMPILED = [(method, re.compile(pattern + "$"), name, view) for method, pattern, name, view in ROUTES]
ADMIN = [
    ((methods,) if isinstance(methods, str) else methods, re.compile(pattern + "$"), view)
    for methods, pattern, view in admin.ROUTES
]


class Sim:
    """Everything a handler needs: the store, the clock, throttling, faults and the request log."""

    server_version = "mssim/1.0"

    def __init__(self, db_path: str, *, redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,), do_seed: bool = True):
        self.store = Store(db_path)
        self.clock = Clock(self.store)
        self.client_id = CLIENT_ID
        self.redirect_uris = tuple(redirect_uris)
        self.public_url = ""
        self.throttle = graph.Throttle()
        self.faults = Faults()
        self.request_log = RequestLog()
        self.stopping = threading.Event()
        if do_seed:
            seed(self.store, redirect_uris=self.redirect_uris)

    def reset(self) -> None:
        """Back to the seeded world: no meetings, tokens, consents or sign-ins; clock, throttling, faults at
        their defaults."""
        self.store.wipe()
        seed(self.store, redirect_uris=self.redirect_uris)
        self.clock.frozen_at = None
        self.clock.set_offset(0)
        self.throttle.configure({})
        self.faults.clear()
        self.request_log.clear()

    def internal_error(self) -> Response:
        return json_response(500, {"error": {"code": "InternalServerError", "message": "mssim internal error"}})

    def dispatch(self, req: Request) -> Response:
        if req.path.startswith("/_sim"):
            for methods, pattern, view in ADMIN:
                match = pattern.match(req.raw_path)
                if match and req.method in methods:
                    return admin.run(self, req, view, match.groupdict())
            return json_response(404, {"error": f"no admin route {req.method} {req.path}"})
        for method, pattern, name, view in COMPILED:
            # The path as sent: a meeting id holds "/" and "=", which the client percent-encodes.
            match = pattern.match(req.raw_path)
            if match and req.method == method:
                req.route = name
                return self._with_faults(req, view, match.groupdict())
        if req.path.startswith("/v1.0"):
            return graph_error(
                404, "UnknownError" if req.method != "GET" else "NotFound", "Resource not found.", now=self.clock.now()
            )
        return page("Not found", "<h1>Page not found</h1>", status=404)

    def _with_faults(self, req: Request, view, kwargs) -> Response:
        fault = self.faults.pick(req.route)
        if fault == "timeout":
            return Response(action="hang", hang_seconds=self.faults.timeout_seconds)
        if fault in ("error_500", "error_503", "error_504", "rate_429"):
            return self._fault_answer(req.route, fault)
        response = view(self, req, **kwargs)
        if fault == "drop":
            return Response(action="close")  # applied, but the answer is lost
        return response

    def _fault_answer(self, route: str, fault: str) -> Response:
        now = self.clock.now()
        status = {"error_500": 500, "error_503": 503, "error_504": 504, "rate_429": 429}[fault]
        if route.startswith("identity."):
            error, code = ("temporarily_unavailable", 90055) if status in (429, 503) else ("server_error", 90033)
            response = aad_error(status, error, code, "The service is temporarily unavailable.", now=now)
        else:
            code = {
                500: "InternalServerError",
                503: "serviceNotAvailable",
                504: "GatewayTimeout",
                429: "TooManyRequests",
            }[status]
            response = graph_error(status, code, "The service is busy; retry later." if status != 500 else "", now=now)
        if status in (429, 503):
            response.header("Retry-After", self.faults.retry_after)
        return response


class SimServer(AdminClient):
    """A running simulator: `.url`, `.auth_base_url`, `.graph_base_url`, `.stop()`, and AdminClient's methods."""

    def __init__(self, httpd: SimHTTPServer, thread: threading.Thread):
        self.httpd = httpd
        self.sim = httpd.sim
        self.thread = thread
        host, port = httpd.server_address[:2]
        super().__init__(f"http://{host}:{port}")

    @property
    def auth_base_url(self) -> str:
        return self.url

    @property
    def graph_base_url(self) -> str:
        return f"{self.url}/v1.0"

    def stop(self) -> None:
        self.sim.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.sim.store.close()


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = 9200,
    db_path: str,
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,),
    public_url: str = "",
    verbose: bool = False,
) -> SimHTTPServer:
    sim = Sim(db_path, redirect_uris=redirect_uris)
    httpd = SimHTTPServer((host, port), sim, verbose=verbose)
    bound_host, bound_port = httpd.server_address[:2]
    sim.public_url = (public_url or f"http://{bound_host}:{bound_port}").rstrip("/")
    return httpd


def start_server(
    *, port: int = 0, db_path: str, host: str = "127.0.0.1", redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)
) -> SimServer:
    """Start the simulator in a background thread (port 0: any free port) and return it."""
    httpd = make_server(host=host, port=port, db_path=db_path, redirect_uris=redirect_uris)
    return SimServer(httpd, serve_in_thread(httpd, "mssim"))
