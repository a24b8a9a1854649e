"""The simulator in a thread on a free port with a fresh SQLite file, and an OAuth flow driven like a browser.

These tests need no Django database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulators.zoom.seed import DEFAULT_REDIRECT_URI, PASSWORD
from simulators.zoom.server import start_server

CLIENT_ID = "zoomsim-client-id"
CLIENT_SECRET = "zoomsim-client-secret"
TIMEOUT = 10


@pytest.fixture
def sim(tmp_path):
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"))
    yield server
    server.stop()


class Browser:
    """A requests session that follows the sign-in and consent pages like a person would."""

    def __init__(self, sim):
        self.sim = sim
        self.session = requests.Session()

    def authorize_url(self, client_id=CLIENT_ID, redirect_uri=DEFAULT_REDIRECT_URI, state="st-1", **extra) -> str:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            **extra,
        }
        return requests.Request("GET", f"{self.sim.url}/oauth/authorize", params=params).prepare().url

    def get(self, url, **kwargs):
        return self.session.get(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def sign_in(self, email, password=PASSWORD, next_url="/"):
        return self.session.post(
            f"{self.sim.url}/signin",
            data={"email": email, "password": password, "next": next_url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def consent_page(self, email, **params):
        url = self.authorize_url(**params)
        page = self.get(url)
        if 'action="/signin"' in page.text:
            signed = self.sign_in(email, next_url=url.replace(self.sim.url, ""))
            assert signed.status_code == 302, signed.text
            page = self.get(self.sim.url + signed.headers["Location"])
        return page

    def decide(self, page, decision="allow"):
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        return self.session.post(
            f"{self.sim.url}/oauth/authorize/decision",
            data={"txn": txn, "decision": decision},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def code(self, email, **params) -> str:
        answer = self.decide(self.consent_page(email, **params))
        assert answer.status_code == 302, answer.text
        return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_request(sim, data, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    return requests.post(
        f"{sim.url}/oauth/token", data=data, headers={"Authorization": basic(client_id, secret)}, timeout=TIMEOUT
    )


def exchange(sim, code, client_id=CLIENT_ID, secret=CLIENT_SECRET, redirect_uri=DEFAULT_REDIRECT_URI, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    return token_request(sim, data, client_id, secret)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def connect(sim, email="pro@zoomsim.test", client_id=CLIENT_ID, secret=CLIENT_SECRET) -> dict:
    """Authorise `email` for the app and return the token response."""
    code = Browser(sim).code(email, client_id=client_id)
    answer = exchange(sim, code, client_id, secret)
    assert answer.status_code == 200, answer.text
    return answer.json()


class Api:
    """The REST API as the product calls it."""

    def __init__(self, sim, access_token):
        self.base = f"{sim.url}/v2"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)

        def call(path, **kwargs):
            kwargs.setdefault("timeout", TIMEOUT)
            return self.session.request(method.upper(), self.base + path, **kwargs)

        return call

    def create(self, **body):
        payload = {
            "topic": "Seminar",
            "type": 2,
            "start_time": "2030-01-15T10:00:00Z",
            "duration": 60,
            "timezone": "Europe/London",
        } | body
        return self.post("/users/me/meetings", json=payload)


@pytest.fixture
def person(sim):
    return Browser(sim)


@pytest.fixture
def pro(sim):
    return Api(sim, connect(sim)["access_token"])


# --- Webhooks: an app's endpoint ----------------------------------------------------------

SECRET = "zoomsim-webhook-secret"


class Receiver:
    """A tiny webhook endpoint that verifies Zoom's signature like an app must."""

    def __init__(self, secret: str):
        self.secret = secret
        self.events: list[dict] = []
        self.answer_validation_wrongly = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["x-zm-request-timestamp"]
                expected = (
                    "v0="
                    + hmac.new(receiver.secret.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256).hexdigest()
                )
                if not hmac.compare_digest(expected, self.headers.get("x-zm-signature", "")):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                event = json.loads(raw)
                receiver.events.append({"event": event, "timestamp": int(timestamp)})
                body = b""
                if event["event"] == "endpoint.url_validation":
                    plain = event["payload"]["plainToken"]
                    key = b"wrong" if receiver.answer_validation_wrongly else receiver.secret.encode()
                    encrypted = hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()
                    body = json.dumps({"plainToken": plain, "encryptedToken": encrypted}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver(sim):
    """A webhook endpoint registered as the app's event URL, stopped after the test."""
    endpoint = Receiver(SECRET)
    sim.edit_app("zoomsim-client-id", webhook_url=endpoint.url)
    yield endpoint
    endpoint.stop()
