"""The provider contract, run for the test provider."""

import pytest

from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.registry import get_provider
from virtualmeeting.tests.contract import ProviderContract, RegistrantsContract

FIELD_NAMES = {"duration_minutes": "duration"}


class TestTestProviderContract(ProviderContract, RegistrantsContract):
    @pytest.fixture
    def provider(self):
        return get_provider("test")

    @pytest.fixture
    def connection(self, owner):
        return owner.meeting_connections.get()

    def remote_exists(self, remote_id):
        return any(m["remote_id"] == remote_id for m in TestProvider.meetings())

    def sent_update_fields(self):
        return {FIELD_NAMES.get(name, name) for name in TestProvider.last_update_fields()}

    def make_gone(self, remote_id):
        TestProvider.remote_delete(remote_id)

    def fail_next(self, operation, kind):
        TestProvider.fail_next(operation, kind)

    def host_url_requests(self):
        return TestProvider.calls("host_url")

    def script_participants(self, remote_id, occurrence, records, *, not_ready=0):
        TestProvider.script_participants(remote_id, occurrence, records, not_ready=not_ready)

    def script_recordings(self, remote_id, records):
        TestProvider.script_recordings(remote_id, records)
