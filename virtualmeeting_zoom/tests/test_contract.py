"""The framework's provider contract, run for Zoom against a stateful fake of Zoom's REST API, in both ways of
hosting: a trainer's own connection and the site's account for a host."""

import uuid

import pytest

from virtualmeeting.providers.base import AccountHost
from virtualmeeting.registry import get_provider
from virtualmeeting.tests.contract import ProviderContract, RegistrantsContract, contract_spec
from virtualmeeting_zoom.tests.fake_zoom import FakeZoom

HOST_ID = "hOsT-uSeR-1"  # a user of the site's Zoom account


class TestZoomProviderContract(ProviderContract, RegistrantsContract):
    @pytest.fixture(autouse=True)
    def fake(self, mocked):
        self.zoom = FakeZoom(mocked)
        return self.zoom

    @pytest.fixture
    def provider(self, zoom_config):
        return get_provider("zoom")

    def remote_exists(self, remote_id):
        return remote_id in self.zoom.meetings

    def sent_update_fields(self):
        return self.zoom.last_update_fields

    def make_gone(self, remote_id):
        self.zoom.meetings.pop(remote_id, None)

    def fail_next(self, operation, kind):
        self.zoom.fail_next(operation, kind)

    def host_url_requests(self):
        return self.zoom.meeting_gets

    def script_participants(self, remote_id, occurrence, records, *, not_ready=0):
        self.zoom.script_participants(remote_id, occurrence, records, not_ready=not_ready)

    def script_recordings(self, remote_id, records):
        self.zoom.script_recordings(remote_id, records)


class TestZoomSiteAccountContract(TestZoomProviderContract):
    """The same contract for meetings of the site's account (a Server-to-Server app), made for a host."""

    @pytest.fixture(autouse=True)
    def own_cache(self, settings):
        # The shared account token lives in the cache: each test its own, so none leaks into another.
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
        }

    @pytest.fixture
    def provider(self, zoom_config):
        zoom_config.account_id, zoom_config.account_client_id = "AcCoUnT-1", "s2sClientId"
        zoom_config.account_client_secret = "s2s-secret"
        zoom_config.hosting = "account"
        zoom_config.save()
        return get_provider("zoom")

    @pytest.fixture
    def connection(self, db):
        return AccountHost(HOST_ID)

    def test_meetings_are_made_for_the_host_with_the_account_token(self, provider, connection, mocked):
        spec = contract_spec()
        remote = provider.create_meeting(connection=connection, spec=spec)
        assert self.zoom.hosts[remote.remote_id] == HOST_ID
        create = next(
            call.request for call in mocked.calls if call.request.method == "POST" and "/meetings" in call.request.url
        )
        assert create.headers["Authorization"] == "Bearer account-1"
        # A lost create is looked for among the host's meetings.
        assert provider.find_meeting(connection=connection, marker=spec.marker).remote_id == remote.remote_id
