"""lms.csp: the site's Content-Security-Policy built once gives every response what django-csp gives it."""

import pytest
from csp.constants import NONE, SELF
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from lms.csp import SitePolicyCSPMiddleware

HEADER = "Content-Security-Policy"


def _both(view, request=None, **kwargs):
    """The response of `view` through django-csp's middleware and through ours (fresh responses each)."""
    request_factory = RequestFactory()
    answers = []
    for middleware_class in (CSPMiddleware, SitePolicyCSPMiddleware):
        request = request_factory.get("/somewhere/")
        middleware = middleware_class(lambda req: view(req))
        answers.append(middleware(request))
    return answers


def _plain(request):
    return HttpResponse("ok")


@csp_update({"img-src": ["https://img.example.com"]})
def _updated(request):
    return HttpResponse("ok")


@csp_exempt()
def _exempt(request):
    return HttpResponse("ok")


def _with_nonce(request):
    return HttpResponse(str(request.csp_nonce))


@pytest.mark.parametrize("view", [_plain, _updated, _exempt])
def test_the_header_is_django_csps(view):
    theirs, ours = _both(view)
    assert ours.get(HEADER) == theirs.get(HEADER)


def test_a_page_that_asks_for_a_nonce_gets_it_in_its_header():
    from csp.constants import NONCE

    policy = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        _theirs, ours = _both(_with_nonce)
        plain = SitePolicyCSPMiddleware(_plain)(RequestFactory().get("/"))
    nonce = ours.content.decode()
    assert nonce and f"'nonce-{nonce}'" in ours[HEADER]
    assert "nonce-" not in plain[HEADER]  # a page that asked for none


def test_a_nonce_asked_for_after_the_header_was_written_is_an_error():
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    SitePolicyCSPMiddleware(_plain)(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_a_changed_setting_is_the_new_header():
    first = SitePolicyCSPMiddleware(_plain)(RequestFactory().get("/"))[HEADER]
    policy = {"DIRECTIVES": {"default-src": [NONE], "script-src": [SELF, "https://cdn.example.com"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        changed = SitePolicyCSPMiddleware(_plain)(RequestFactory().get("/"))[HEADER]
    assert "https://cdn.example.com" in changed and "https://cdn.example.com" not in first
    assert SitePolicyCSPMiddleware(_plain)(RequestFactory().get("/"))[HEADER] == first


def test_excluded_prefixes_are_django_csps_to_decide():
    policy = {"EXCLUDE_URL_PREFIXES": ["/somewhere/"], "DIRECTIVES": {"default-src": [SELF]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        theirs, ours = _both(_plain)
    assert HEADER not in theirs and HEADER not in ours
