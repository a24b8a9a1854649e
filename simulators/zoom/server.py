"""The HTTP server: routing, faults, the request log, and `start_server` for tests."""

from __future__ import annotations

import re
import threading

from simulators.common import Clock, RequestLog, SimHTTPServer, serve_in_thread
from simulators.zoom import admin, meetings, oauth, participants, recordings, registrants, rooms
from simulators.zoom.client import AdminClient
from simulators.zoom.faults import Faults
from simulators.zoom.limits import Limits
from simulators.zoom.seed import DEFAULT_REDIRECT_URI, DEFAULT_WEBHOOK_URL, seed
from simulators.zoom.store import Store
from simulators.zoom.web import Request, Response, json_response, page


def _rest(handler, **fixed):
    def view(sim, req, **kwargs):
        return meetings.handle(sim, req, handler, **fixed, **kwargs)

    return view


# (methods, path pattern, route name for faults and the log, view)
ROUTES = [
    ("GET", r"/", "page.home", oauth.home),
    ("GET", r"/oauth/authorize", "oauth.authorize", oauth.authorize),
    ("POST", r"/oauth/authorize/decision", "oauth.decision", oauth.decision),
    ("GET", r"/signin", "oauth.signin", oauth.signin_form),
    ("POST", r"/signin", "oauth.signin", oauth.signin),
    ("GET", r"/logout", "oauth.logout", oauth.logout),
    ("POST", r"/oauth/token", "oauth.token", oauth.token),
    ("POST", r"/oauth/revoke", "oauth.revoke", oauth.revoke),
    ("GET", r"/v2/users", "users.list", _rest(meetings.list_users)),
    ("GET", r"/v2/users/(?P<user_ref>[^/]+)", "users.me", _rest(meetings.users_me)),
    ("POST", r"/v2/users/(?P<user_ref>[^/]+)/meetings", "meetings.create", _rest(meetings.create)),
    ("GET", r"/v2/users/(?P<user_ref>[^/]+)/meetings", "meetings.list", _rest(meetings.list_meetings)),
    ("GET", r"/v2/meetings/(?P<meeting_id>[^/]+)", "meetings.get", _rest(meetings.get)),
    ("PATCH", r"/v2/meetings/(?P<meeting_id>[^/]+)", "meetings.update", _rest(meetings.update)),
    ("DELETE", r"/v2/meetings/(?P<meeting_id>[^/]+)", "meetings.delete", _rest(meetings.delete)),
    ("POST", r"/v2/meetings/(?P<meeting_id>[^/]+)/registrants", "registrants.create", _rest(registrants.create)),
    ("GET", r"/v2/meetings/(?P<meeting_id>[^/]+)/registrants", "registrants.list", _rest(registrants.list_registrants)),
    ("POST", r"/v2/meetings/(?P<meeting_id>[^/]+)/batch_registrants", "registrants.batch", _rest(registrants.batch)),
    (
        "PUT",
        r"/v2/meetings/(?P<meeting_id>[^/]+)/registrants/status",
        "registrants.status",
        _rest(registrants.update_status),
    ),
    (
        "GET",
        r"/v2/past_meetings/(?P<meeting_ref>[^/]+)/participants",
        "past_participants.list",
        _rest(participants.past_participants),
    ),
    ("GET", r"/v2/meetings/(?P<meeting_ref>[^/]+)/recordings", "recordings.get", _rest(recordings.get)),
    ("GET", r"/j/(?P<meeting_id>[^/]+)", "page.join", rooms.join),
    ("GET", r"/w/(?P<meeting_id>[^/]+)", "page.join_registrant", rooms.join_registrant),
    ("GET", r"/meeting/register/(?P<token>[^/]+)", "page.register", rooms.registration_form),
    ("POST", r"/meeting/register/(?P<token>[^/]+)", "page.register", rooms.register),
    (("GET", "POST"), r"/rec/share/(?P<token>[^/]+)", "page.recording", recordings.share_page),
    (("GET", "POST"), r"/rec/play/(?P<token>[^/]+)", "page.recording", recordings.play_page),
    ("GET", r"/rec/download/(?P<token>[^/]+)", "page.recording_download", recordings.download),
    ("GET", r"/s/(?P<meeting_id>[^/]+)", "page.start", rooms.start),
]
# Routes matched on the path as sent: a meeting uuid may hold an encoded "/" (Zoom's double-encoding rule).
RAW_PATH_ROUTES = {"past_participants.list", "recordings.get"}
COMPILED = [(methods, re.compile(pattern + "$"), name, view) for methods, pattern, name, view in ROUTES]
ADMIN = [
    ((methods,) if isinstance(methods, str) else methods, re.compile(pattern + "$"), view)
    for methods, pattern, view in admin.ROUTES
]


class Sim:
    """Everything a handler needs: the store, the clock, limits, faults, webhooks and logs."""

    server_version = "zoomsim/1.0"

    def __init__(
        self,
        db_path: str,
        *,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        webhook_url: str = DEFAULT_WEBHOOK_URL,
        do_seed: bool = False,
    ):
        from simulators.zoom.webhooks import Webhooks

        self.store = Store(db_path)
        self.clock = Clock(self.store)
        self.redirect_uri = redirect_uri
        self.webhook_url = webhook_url
        self.public_url = ""
        self.limits = Limits(self)
        self.faults = Faults()
        self.webhooks = Webhooks(self)
        self.request_log = RequestLog()
        self.page_tokens = meetings.PageTokens()
        self.stopping = threading.Event()
        if do_seed:
            seed(self.store, redirect_uri=redirect_uri, webhook_url=webhook_url)

    def start_background(self) -> None:
        """Send webhook retries as they fall due, while the server runs."""

        def loop():
            while not self.stopping.wait(1.0):
                self.webhooks.run_due()

        threading.Thread(target=loop, name="zoomsim-webhook-retries", daemon=True).start()

    def reset(self) -> None:
        """Back to the seeded world: no meetings, tokens or sign-ins; clock, limits and faults at defaults."""
        self.store.wipe()
        seed(self.store, redirect_uri=self.redirect_uri, webhook_url=self.webhook_url)
        self.clock.frozen_at = None
        self.clock.set_offset(0)
        self.limits.load()
        self.faults.clear()
        self.webhooks.clear()
        self.request_log.clear()
        self.page_tokens = meetings.PageTokens()

    def internal_error(self) -> Response:
        return json_response(500, {"code": 500, "message": "zoomsim internal error (see its log)"})

    def dispatch(self, req: Request) -> Response:
        if req.path.startswith("/_sim"):
            return self._admin(req)
        for methods, pattern, name, view in COMPILED:
            match = pattern.match(req.raw_path if name in RAW_PATH_ROUTES else req.path)
            if match and req.method in methods:
                req.route = name
                return self._with_faults(req, view, match.groupdict())
        return (
            json_response(404, {"code": 404, "message": "Not Found"})
            if req.path.startswith("/v2")
            else page("Not found", "<h1>Page not found</h1>", status=404)
        )

    def _admin(self, req: Request) -> Response:
        for methods, pattern, view in ADMIN:
            match = pattern.match(req.path)
            if match and req.method in methods:
                return admin.run(self, req, view, match.groupdict())
        return json_response(404, {"error": f"no admin route {req.method} {req.path}"})

    def _with_faults(self, req: Request, view, kwargs) -> Response:
        fault, delay_ms = self.faults.pick(req.route)
        if delay_ms:
            self.stopping.wait(delay_ms / 1000)
        if fault == "error_500":
            return json_response(500, {"code": 500, "message": "Internal Server Error"})
        if fault == "error_502":
            return Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", [("Content-Type", "text/html")])
        if fault == "timeout":
            return Response(action="hang", hang_seconds=self.faults.timeout_seconds)
        if fault == "rate_429":
            return self.limits.qps_exceeded(20, int(self.clock.now()) + 1).header("X-RateLimit-Category", "Medium")
        response = view(self, req, **kwargs)
        if fault == "drop":
            if self.faults.drop_mode == "504":
                return Response(
                    504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>", [("Content-Type", "text/html")]
                )
            return Response(action="close")
        return response


class SimServer(AdminClient):
    """A running simulator: `.url`, `.stop()`, and the admin API methods of AdminClient."""

    def __init__(self, httpd: SimHTTPServer, thread: threading.Thread):
        self.httpd = httpd
        self.sim = httpd.sim
        self.thread = thread
        host, port = httpd.server_address[:2]
        super().__init__(f"http://{host}:{port}")

    @property
    def oauth_base_url(self) -> str:
        return self.url

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/v2"

    def stop(self) -> None:
        self.sim.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.sim.store.close()


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = 9100,
    db_path: str,
    seed_data: bool = True,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    webhook_url: str = DEFAULT_WEBHOOK_URL,
    public_url: str = "",
    verbose: bool = False,
) -> SimHTTPServer:
    sim = Sim(db_path, redirect_uri=redirect_uri, webhook_url=webhook_url, do_seed=seed_data)
    httpd = SimHTTPServer((host, port), sim, verbose=verbose)
    bound_host, bound_port = httpd.server_address[:2]
    sim.public_url = (public_url or f"http://{bound_host}:{bound_port}").rstrip("/")
    sim.start_background()
    return httpd


def start_server(
    *,
    port: int = 0,
    db_path: str,
    host: str = "127.0.0.1",
    seed_data: bool = True,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    webhook_url: str = DEFAULT_WEBHOOK_URL,
    public_url: str = "",
) -> SimServer:
    """Start the simulator in a background thread (port 0: any free port) and return it."""
    httpd = make_server(
        host=host,
        port=port,
        db_path=db_path,
        seed_data=seed_data,
        redirect_uri=redirect_uri,
        webhook_url=webhook_url,
        public_url=public_url,
    )
    return SimServer(httpd, serve_in_thread(httpd, "zoomsim"))
