"""The Microsoft simulator in a thread on a free port with a fresh SQLite file, and a sign-in driven like a
browser (sign-in form, consent page) over HTTP. These tests need no Django database."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulators.microsoft.seed import CLIENT_ID, CLIENT_SECRET, DEFAULT_REDIRECT_URI, PASSWORD
from simulators.microsoft.server import start_server

SCOPES = "openid profile email offline_access User.Read OnlineMeetings.ReadWrite"
TRAINER = "trainer@contoso.test"
TIMEOUT = 10


@pytest.fixture
def sim(tmp_path):
    server = start_server(port=0, db_path=str(tmp_path / "mssim.sqlite3"))
    yield server
    server.stop()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class Browser:
    """A requests session that fills the sign-in form and answers the consent page like a person."""

    def __init__(self, sim, tenant: str = "common"):
        self.sim = sim
        self.tenant = tenant
        self.session = requests.Session()
        self.verifier, self.challenge = pkce_pair()

    def authorize_url(self, **overrides) -> str:
        params = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": DEFAULT_REDIRECT_URI,
            "response_mode": "query",
            "scope": SCOPES,
            "state": "st-1",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        params = {key: value for key, value in params.items() if value is not None}
        url = f"{self.sim.url}/{self.tenant}/oauth2/v2.0/authorize"
        return requests.Request("GET", url, params=params).prepare().url

    def get(self, url):
        return self.session.get(url, allow_redirects=False, timeout=TIMEOUT)

    def post(self, path_or_url: str, data: dict):
        url = path_or_url if path_or_url.startswith("http") else self.sim.url + path_or_url
        return self.session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)

    def sign_in(self, page, email=TRAINER, password=PASSWORD):
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        return self.post(action, {"txn": txn, "email": email, "password": password})

    def decide(self, page, decision="accept"):
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        return self.post(action, {"txn": txn, "decision": decision})

    def code(self, email=TRAINER, **overrides) -> str:
        """Sign in (and consent when asked): the code the redirect carries."""
        answer = self.get(self.authorize_url(**overrides))
        if 'name="password"' in answer.text:
            answer = self.sign_in(answer, email=email)
        if "Permissions requested" in answer.text:
            answer = self.decide(answer)
        assert answer.status_code == 302, answer.text
        query = query_of(answer.headers["Location"])
        assert "code" in query, query
        return query["code"]


def token_request(sim, tenant: str = "common", **form):
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    data = {key: value for key, value in data.items() if value is not None}
    return requests.post(f"{sim.url}/{tenant}/oauth2/v2.0/token", data=data, timeout=TIMEOUT)


def exchange(sim, browser: Browser, code: str, **form):
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "code_verifier": browser.verifier,
        "scope": SCOPES,
        **form,
    }
    return token_request(sim, browser.tenant, **fields)


def connect(sim, email=TRAINER, tenant="common") -> dict:
    """A full sign-in: the token answer."""
    browser = Browser(sim, tenant)
    answer = exchange(sim, browser, browser.code(email))
    assert answer.status_code == 200, answer.text
    return answer.json()


def graph(sim, method: str, path: str, token: str, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{sim.url}/v1.0{path}", headers=headers, timeout=TIMEOUT, **kwargs)
