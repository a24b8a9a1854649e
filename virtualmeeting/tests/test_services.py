"""Connection services and the app's settings."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from virtualmeeting import signals
from virtualmeeting.models import OAuthState, ProviderConnection, VirtualMeeting
from virtualmeeting.services import connections_revoke_remote
from virtualmeeting.sync import meeting_sweep
from virtualmeeting.tests.conftest import connect, make_user
from virtualmeeting.tests.helpers import fresh, put, run


def test_revoke_remote_account(owner, django_capture_on_commit_callbacks):
    other = make_user("ann")
    connect(other)
    meeting = put(owner)
    revoked = []

    def receiver(sender, connection, **kwargs):
        revoked.append(connection.user_id)

    signals.connection_revoked.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                connections_revoke_remote(
                    provider="test", remote_account_id="acct-tom", message="The app was removed from the account."
                )
                == 1
            )
    finally:
        signals.connection_revoked.disconnect(receiver)

    assert revoked == [owner.pk]
    tom = ProviderConnection.objects.get(user=owner)
    assert tom.status == ProviderConnection.Status.REVOKED
    assert tom.status_message == "The app was removed from the account."
    assert not tom.is_usable
    assert ProviderConnection.objects.get(user=other).is_usable
    assert fresh(meeting).status == VirtualMeeting.Status.FAILED
    assert "The app was removed from the account" in fresh(meeting).last_error


def test_available_meetings_stay_available_when_the_connection_is_revoked(owner):
    meeting = put(owner)
    run(meeting)
    connections_revoke_remote(provider="test", remote_account_id="acct-tom", message="Gone.")
    assert fresh(meeting).status == VirtualMeeting.Status.AVAILABLE


def test_sweep_forgets_unfinished_connect_flows(owner):
    OAuthState.objects.create(state="old", user=owner, provider="test", code_verifier="v", redirect_uri="x")
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        OAuthState.objects.create(state="new", user=owner, provider="test", code_verifier="v", redirect_uri="x")
        meeting_sweep()
    assert list(OAuthState.objects.values_list("state", flat=True)) == ["new"]


def test_admin_pages_never_show_tokens(client, owner):
    meeting = put(owner)
    run(meeting)
    connection = ProviderConnection.objects.get(user=owner)
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    pages = [
        "/admin/virtualmeeting/providerconnection/",
        f"/admin/virtualmeeting/providerconnection/{connection.pk}/change/",
        f"/admin/virtualmeeting/virtualmeeting/{meeting.pk}/change/",
        "/admin/virtualmeeting/providerconfig/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in (connection.access_token, connection.refresh_token, fresh(meeting).password):
            assert secret not in html, url
