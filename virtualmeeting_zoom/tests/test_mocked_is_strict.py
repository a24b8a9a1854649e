"""The `mocked` fixture is strict: a route a test registers and never calls fails the test; a FakeZoom's routes
(a stand-in server) do not."""

import pytest
import requests
import responses

from virtualmeeting_zoom.tests import conftest
from virtualmeeting_zoom.tests.fake_zoom import FakeZoom


def _mocked():
    function = conftest.mocked
    return getattr(function, "__wrapped__", None) or function._get_wrapped_function()


def test_a_route_registered_and_never_called_fails_the_test():
    fixture = _mocked()()
    mocked = next(fixture)
    mocked.get("https://api.zoom.us/v2/users/me", json={})
    with pytest.raises(
        AssertionError, match=r"Registered but never called: \[\('GET', 'https://api.zoom.us/v2/users/me'"
    ):
        next(fixture)


def test_called_routes_and_a_fake_servers_routes_pass():
    fixture = _mocked()()
    mocked = next(fixture)
    FakeZoom(mocked)
    mocked.get("https://api.zoom.us/v2/users/me", json={"id": "u1"})
    assert requests.get("https://api.zoom.us/v2/users/me", timeout=5).json() == {"id": "u1"}
    with pytest.raises(StopIteration):
        next(fixture)
    assert isinstance(mocked, responses.RequestsMock)
