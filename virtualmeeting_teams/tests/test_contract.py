"""The framework's provider contract, run for Microsoft Teams against a stateful fake of Graph (FakeGraph).

Teams has no registrants (so no RegistrantsContract) and no daily quota (docs/teams-protocol.md, 6): the
contract's "rate_limited_daily" kind has nothing to stand for here and is left out of the error cases.
"""

import pytest

from virtualmeeting.registry import get_provider
from virtualmeeting.tests.contract import ERROR_KINDS, ProviderContract
from virtualmeeting_teams.tests.fake_graph import FakeGraph

TEAMS_ERROR_KINDS = tuple(kind for kind in ERROR_KINDS if kind != "rate_limited_daily")


class TestTeamsProviderContract(ProviderContract):
    @pytest.fixture(autouse=True)
    def fake(self, mocked):
        self.graph = FakeGraph(mocked)
        return self.graph

    @pytest.fixture
    def provider(self, teams_config):
        return get_provider("teams")

    def remote_exists(self, remote_id):
        return remote_id in self.graph.meetings

    def sent_update_fields(self):
        return self.graph.last_update_fields

    def make_gone(self, remote_id):
        self.graph.meetings.pop(remote_id, None)

    def fail_next(self, operation, kind):
        self.graph.fail_next(operation, kind)

    def host_url_requests(self):
        return self.graph.meeting_gets

    @pytest.mark.parametrize("kind", TEAMS_ERROR_KINDS)
    def test_errors_carry_intent(self, provider, connection, kind):
        super().test_errors_carry_intent(provider, connection, kind)
