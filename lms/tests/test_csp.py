"""Content-Security-Policy: every page carries it, and no page template needs inline code or style."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = ["templates", "seminars/templates", "virtualmeeting/templates", "virtualmeeting_zoom/templates"]


def page_templates():
    for folder in TEMPLATE_DIRS:
        for path in sorted((BASE_DIR / folder).rglob("*.html")):
            if "email" in path.relative_to(BASE_DIR).parts[-2]:
                continue  # emails are read in mail clients, not under the site's policy
            yield path


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def member(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user("lena", password="pw-for-tests-1")


@pytest.mark.parametrize(
    "url, logged_in, status",
    [
        ("/accounts/login/", False, 200),
        ("/", True, 200),
        ("/courses/", True, 200),
        ("/profile/", True, 200),
        ("/no/such/page/", True, 404),
        ("/integrations/virtualmeeting/connect/nope", True, 404),  # the connect popup's result page
    ],
)
def test_every_page_carries_the_policy(client, member, url, logged_in, status):
    if logged_in:
        client.force_login(member)

    response = client.get(url)

    assert response.status_code == status
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    # Where the OAuth sign-ins start: Zoom and the Microsoft identity platform.
    assert policy["form-action"][1:] == ["https://zoom.us", "https://login.microsoftonline.com"]


INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "on*= event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "<style> element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "javascript: URL": re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def test_no_page_template_holds_inline_script_handlers_or_style():
    found = []
    for path in page_templates():
        text = path.read_text()
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {what}")
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    samples = {
        "inline <script>": "<script>alert(1)</script>",
        "on*= event handler": '<button type="button" onclick="go()">',
        "style= attribute": '<h3 style="margin-top: 1em">',
        "<style> element": "<style>h1 {}</style>",
        "javascript: URL": '<a href="javascript:go()">',
    }
    for what, sample in samples.items():
        assert INLINE[what].search(sample), what
    assert not INLINE["inline <script>"].search('<script src="/static/js/site.js"></script>')
    assert not INLINE["on*= event handler"].search('<div class="online" data-json="1">')
