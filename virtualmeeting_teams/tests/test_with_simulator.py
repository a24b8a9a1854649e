"""The Teams provider against the Microsoft simulator over HTTP (simulators/microsoft): a trainer connects
through the framework's connect and callback views (the simulator's sign-in and consent pages driven like a
browser), then a meeting is made, moved in place, read and deleted; the simulator's people without a licence or
without the permission are told why."""

import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command

from simulators.microsoft.seed import PASSWORD
from simulators.microsoft.server import start_server
from virtualmeeting.errors import ProviderError
from virtualmeeting.models import ProviderConnection
from virtualmeeting.providers.base import MeetingSpec
from virtualmeeting.registry import get_provider

CALLBACK = "/integrations/virtualmeeting/auth_callback/teams"
START = datetime(2030, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def mssim(tmp_path, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    server = start_server(
        port=0, db_path=str(tmp_path / "mssim.sqlite3"), redirect_uris=(settings.SITE_URL + CALLBACK,)
    )
    settings.TEAMS_AUTH_BASE_URL = server.url
    settings.GRAPH_API_BASE_URL = f"{server.url}/v1.0"
    yield server
    server.stop()


@pytest.fixture
def configured(mssim, db):
    call_command("virtualmeeting_teams_configure", simulator=mssim.url, stdout=io.StringIO())


def sign_in(client, email: str) -> str:
    """Connect in the popup: our connect URL, the simulator's sign-in and consent pages, back to our callback."""
    location = client.get("/integrations/virtualmeeting/connect/teams")["Location"]
    browser = requests.Session()
    page = browser.get(location, allow_redirects=False, timeout=10)
    for fields in ({"email": email, "password": PASSWORD}, {"decision": "accept"}):
        if page.status_code == 302:
            break
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        page = browser.post(
            mssim_url(location) + action, data={"txn": txn, **fields}, allow_redirects=False, timeout=10
        )
    back = urlsplit(page.headers["Location"])
    assert back.path == CALLBACK
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    return client.get(CALLBACK, query).content.decode()


def mssim_url(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}"


def spec(**overrides) -> MeetingSpec:
    values = {
        "topic": "Safety training",
        "start": START,
        "finish": START + timedelta(hours=1),
        "timezone": "Europe/London",
        "marker": "vm-sim-1",
    }
    values.update(overrides)
    return MeetingSpec(**values)


def test_connect_then_create_move_in_place_read_and_delete(client, trainer, configured):
    client.force_login(trainer)
    html = sign_in(client, "trainer@contoso.test")
    assert "Connected Microsoft Teams account Taylor Trainer (trainer@contoso.test)." in html
    connection = ProviderConnection.objects.get(user=trainer, provider="teams")
    provider = get_provider("teams")

    made = provider.create_meeting(connection=connection, spec=spec())
    moved = spec(start=START + timedelta(hours=2), finish=START + timedelta(hours=3, minutes=30))
    provider.update_meeting(connection=connection, remote_id=made.remote_id, spec=moved, previous=spec())
    read = provider.get_meeting(connection=connection, remote_id=made.remote_id)

    assert (read.remote_id, read.join_url) == (made.remote_id, made.join_url)  # the same meeting, changed in place
    assert (read.start, read.duration_minutes) == (moved.start, 90)
    assert provider.find_meeting(connection=connection, marker="vm-sim-1").remote_id == made.remote_id
    provider.delete_meeting(connection=connection, remote_id=made.remote_id)
    provider.delete_meeting(connection=connection, remote_id=made.remote_id)  # gone already: no error
    with pytest.raises(ProviderError):
        provider.get_meeting(connection=connection, remote_id=made.remote_id)


def test_a_grant_without_the_meetings_permission_is_refused_in_words(client, trainer, configured):
    client.force_login(trainer)
    html = sign_in(client, "noperm@contoso.test")
    assert "OnlineMeetings.ReadWrite" in html and "Connected" not in html
    assert not ProviderConnection.objects.filter(user=trainer).exists()


def test_an_account_without_a_teams_licence_is_told_why(client, trainer, configured):
    client.force_login(trainer)
    assert "Connected" in sign_in(client, "nolicence@contoso.test")
    connection = ProviderConnection.objects.get(user=trainer, provider="teams")

    with pytest.raises(ProviderError) as excinfo:
        get_provider("teams").create_meeting(connection=connection, spec=spec())

    assert excinfo.value.permanent and "Teams licence" in excinfo.value.message
