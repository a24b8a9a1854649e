"""The room dialog's host search and the saved host's check against the Zoom simulator over HTTP: every page of
the account's active users (GET /users, 300 a page), with licences; a chosen host is an active user of the
account (GET /users/{id}) until they are deactivated."""

from seminars.meetings import account_host_chosen, account_users_search
from virtualmeeting_zoom.tests import test_account_meetings_simulator as simulated

zoom_sim, provider = simulated.zoom_sim, simulated.provider  # the simulator over HTTP, Zoom set up for it


def test_every_page_of_active_users_with_licences_and_the_chosen_hosts_check(zoom_sim, provider):
    zoom_sim.add_users(
        users=[
            {"email": "alice@zoomsim.test", "first_name": "Alice", "last_name": "Archer", "type": 1},
            {"email": "bob@zoomsim.test", "first_name": "Bob", "last_name": "Baker", "type": 2},
            {"email": "dora@zoomsim.test", "first_name": "Dora", "last_name": "Gone", "type": 2, "status": "inactive"},
        ]
    )
    zoom_sim.add_users(count=310, email_prefix="crowd")  # a second page of GET /users

    everyone = provider.account_users()
    emails = {user.email for user in everyone}
    assert {"alice@zoomsim.test", "bob@zoomsim.test"} <= emails and "dora@zoomsim.test" not in emails
    assert sum(email.startswith("crowd") for email in emails) == 310  # past the first page of 300
    assert len(emails) == len(everyone)

    [alice] = account_users_search(provider_id="zoom", query="ALI")
    assert (alice.name, alice.email, alice.licence, alice.active) == (
        "Alice Archer",
        "alice@zoomsim.test",
        "Basic",
        True,
    )
    [bob] = account_users_search(provider_id="zoom", query="bob@")
    assert bob.licence == "Licensed"

    chosen = account_host_chosen(provider_id="zoom", host_id=alice.remote_id)
    assert chosen.host is not None and chosen.host.email == "alice@zoomsim.test" and not chosen.error
    assert account_host_chosen(provider_id="zoom", host_id="no-such-user").host is None

    zoom_sim.edit_user("alice@zoomsim.test", status="inactive")
    stale = account_host_chosen(provider_id="zoom", host_id=alice.remote_id)
    assert stale.host is None and not stale.error
