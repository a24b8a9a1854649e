"""Which permissions a Microsoft grant holds, whichever way the token answer names them."""

import pytest

from virtualmeeting_teams.options import missing_permissions


@pytest.mark.parametrize(
    "scopes",
    [
        "openid profile email offline_access User.Read OnlineMeetings.ReadWrite",
        "openid profile email https://graph.microsoft.com/OnlineMeetings.ReadWrite https://graph.microsoft.com/User.Read",
        "https%3A%2F%2Fgraph.microsoft.com%2Fonlinemeetings.readwrite https%3A%2F%2Fgraph.microsoft.com%2Fuser.read",
    ],
)
def test_a_complete_grant_lacks_nothing_in_any_of_microsofts_spellings(scopes):
    assert missing_permissions(scopes) == []


def test_a_grant_without_the_meetings_permission_names_it():
    assert missing_permissions("openid https://graph.microsoft.com/User.Read") == ["OnlineMeetings.ReadWrite"]
    assert missing_permissions("") == ["User.Read", "OnlineMeetings.ReadWrite"]
