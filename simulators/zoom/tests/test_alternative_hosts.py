"""A meeting's alternative hosts (settings.alternative_hosts, semicolon-separated emails or ids): stored and
shown by GET; each must be an active, licensed user of the host's account, else Zoom refuses the whole create
or PATCH (400/1114 not a user of the account, 400/1115 a Basic user) and nothing of it is applied."""

import pytest

from simulators.zoom.tests import test_server_to_server as server_to_server
from simulators.zoom.tests.test_server_to_server import ACCOUNT_B, meeting_body

admin_api = server_to_server.admin_api  # an account token of the seeded account (a fixture)

HOST = "/users/pro@zoomsim.test/meetings"


@pytest.fixture
def people(sim):
    return sim.add_users(
        users=[
            {"email": "lena@zoomsim.test", "first_name": "Lena", "type": 2},
            {"email": "omar@zoomsim.test", "first_name": "Omar", "type": 3},
            {"email": "gone@zoomsim.test", "first_name": "Gone", "type": 2, "status": "inactive"},
        ]
    )


def settings_of(api, meeting_id):
    return api.get(f"/meetings/{meeting_id}").json()["settings"]


def test_they_are_stored_shown_and_changed(sim, admin_api, people):
    made = admin_api.post(
        HOST,
        json=meeting_body(
            settings={
                "alternative_hosts": "lena@zoomsim.test;omar@zoomsim.test",
                "alternative_hosts_email_notification": False,
            }
        ),
    )
    assert made.status_code == 201, made.text
    meeting_id = made.json()["id"]
    assert made.json()["settings"]["alternative_hosts"] == "lena@zoomsim.test;omar@zoomsim.test"
    shown = settings_of(admin_api, meeting_id)
    assert (shown["alternative_hosts"], shown["alternative_hosts_email_notification"]) == (
        "lena@zoomsim.test;omar@zoomsim.test",
        False,
    )

    by_id = [user["id"] for user in people if user["email"] == "lena@zoomsim.test"]
    assert (
        admin_api.patch(f"/meetings/{meeting_id}", json={"settings": {"alternative_hosts": by_id[0]}}).status_code
        == 204
    )
    assert settings_of(admin_api, meeting_id)["alternative_hosts"] == by_id[0]
    assert admin_api.patch(f"/meetings/{meeting_id}", json={"settings": {"alternative_hosts": ""}}).status_code == 204
    assert settings_of(admin_api, meeting_id)["alternative_hosts"] == ""


@pytest.mark.parametrize(
    ("named", "code", "fragment"),
    [
        ("nobody@zoomsim.test", 1114, "does not exist or does not belong to this account"),
        ("gone@zoomsim.test", 1114, "does not exist or does not belong to this account"),
        ("b2@otheraccount.test", 1114, "does not exist or does not belong to this account"),
        ("basic@zoomsim.test", 1115, "must be Licensed or On-prem users"),
    ],
    ids=["unknown", "deactivated", "another-account", "basic"],
)
def test_who_may_not_be_one_is_refused_and_nothing_is_applied(sim, admin_api, people, named, code, fragment):
    sim.add_users(ACCOUNT_B, users=[{"email": "b2@otheraccount.test", "type": 2}])
    refused = admin_api.post(HOST, json=meeting_body(settings={"alternative_hosts": f"lena@zoomsim.test;{named}"}))
    assert refused.status_code == 400
    assert refused.json()["code"] == code
    assert f"'{named}'" in refused.json()["message"] and fragment in refused.json()["message"]
    assert admin_api.get(HOST, params={"type": "upcoming"}).json()["meetings"] == []

    made = admin_api.post(HOST, json=meeting_body(settings={"alternative_hosts": "lena@zoomsim.test"})).json()
    patched = admin_api.patch(
        f"/meetings/{made['id']}", json={"topic": "Renamed", "settings": {"alternative_hosts": named}}
    )
    assert (patched.status_code, patched.json()["code"]) == (400, code)
    after = admin_api.get(f"/meetings/{made['id']}").json()
    assert (after["topic"], after["settings"]["alternative_hosts"]) == ("Seminar", "lena@zoomsim.test")


def test_a_malformed_email_is_a_validation_error(sim, admin_api):
    refused = admin_api.post(HOST, json=meeting_body(settings={"alternative_hosts": "not@an-email"}))
    assert (refused.status_code, refused.json()["code"]) == (400, 300)
    assert refused.json()["errors"] == [
        {"field": "settings.alternative_hosts", "message": "Invalid email: not@an-email."}
    ]
