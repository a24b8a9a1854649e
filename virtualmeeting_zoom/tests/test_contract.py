"""The framework's provider contract, run for Zoom against a stateful fake of Zoom's REST API."""

import pytest

from virtualmeeting.registry import get_provider
from virtualmeeting.tests.contract import ProviderContract, RegistrantsContract
from virtualmeeting_zoom.tests.fake_zoom import FakeZoom


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
