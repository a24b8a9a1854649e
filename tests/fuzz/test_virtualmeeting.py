"""The provider settings page, the connect flow's callback and disconnect, and the Zoom webhook."""

import hashlib
import hmac
import json
import time

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import MEETING_ID, WEBHOOK_SECRET, ZOOM_USER_ID
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, post_form, rolled_back, send
from tests.fuzz.strategies import (
    hostile_bool_text,
    hostile_date_text,
    hostile_int_text,
    hostile_json_text,
    hostile_text,
    hostile_zone,
    json_value,
    mutated,
)
from virtualmeeting.models import OAuthState, ProviderConfig
from virtualmeeting_zoom.tasks import HANDLED_EVENTS, PARTICIPATION_EVENTS, RECORDING_EVENTS

ZOOM_SETTINGS = {
    "hosting": "user",
    "client_id": "posted-id",
    "client_secret": "a-new-secret",
    "enabled": "on",
    "redirect_url": "modern",
    "webhook_secret": "",
    "waiting_room": "on",
    "mute_upon_entry": "on",
    "auto_recording": "cloud",
    "plan": "business",
    "create_per_second": "50",
    "light_per_second": "",
    "capacity_basic": "100",
    "capacity_licensed": "500",
    "account_id": "Q4NYNnaSQAuNPy3wi4p3Mw",
    "account_client_id": "s2sClientId456",
    "account_client_secret": "s2s-secret",
}
ZOOM_SETTINGS_FIELDS = {
    "hosting": st.one_of(st.sampled_from(["user", "account", "ACCOUNT", ""]), hostile_text),
    "account_id": hostile_text,
    "account_client_id": st.one_of(st.just("posted-id"), hostile_text),
    "account_client_secret": hostile_text,
    "client_id": hostile_text,
    "client_secret": hostile_text,
    "enabled": hostile_bool_text,
    "redirect_url": st.one_of(st.sampled_from(["modern", "legacy", "MODERN"]), hostile_text),
    "webhook_secret": hostile_text,
    "waiting_room": hostile_bool_text,
    "join_before_host": hostile_bool_text,
    "mute_upon_entry": hostile_bool_text,
    "auto_recording": st.one_of(st.sampled_from(["none", "local", "cloud"]), hostile_text),
    "plan": st.one_of(st.sampled_from(["free", "pro", "business", "enterprise"]), hostile_text),
    "create_per_second": hostile_int_text,
    "light_per_second": hostile_int_text,
    "capacity_basic": hostile_int_text,
    "capacity_licensed": hostile_int_text,
}


@fuzzes("virtualmeeting:settings")
@fuzz_settings(25)
@given(
    provider=st.sampled_from(["zoom", "zoom", "zoom", "nope", "ZOOM"]),
    data=st.one_of(mutated(ZOOM_SETTINGS, ZOOM_SETTINGS_FIELDS), st.just(ZOOM_SETTINGS)),
)
def test_provider_settings(scene, provider, data):
    post_form(scene.admin, reverse("virtualmeeting:settings", args=[provider]), data)


def test_the_zoom_settings_baseline_is_accepted(scene):
    response = send(client_for(scene.admin), "POST", reverse("virtualmeeting:settings", args=["zoom"]), ZOOM_SETTINGS)
    assert response.status_code == 302


@fuzzes("virtualmeeting:settings_check")
@fuzz_settings(20)
@given(
    who=st.sampled_from(["anonymous", "outsider", "learner", "trainer", "editor", "admin"]),
    provider=st.sampled_from(["zoom", "zoom", "nope", "ZOOM"]),
    account=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            ("account_id", "account_client_id", "account_client_secret"),
            # Whatever a column can hold (the form and the command let less in).
            st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=255),
        ),
    ),
    data=st.dictionaries(hostile_text, hostile_text, max_size=3),
)
def test_provider_settings_check(scene, who, provider, account, data):
    """ "Test connection" with whatever the saved site account holds (Zoom is down here): it writes nothing."""
    with rolled_back():
        ProviderConfig.objects.filter(provider="zoom").update(**{k: v for k, v in account.items() if "secret" not in k})
        if "account_client_secret" in account:
            config = ProviderConfig.objects.get(provider="zoom")
            config.account_client_secret = account["account_client_secret"]
            config.save()
        client = client_for(scene.users()[who])
        url = reverse("virtualmeeting:settings_check", args=[provider])
        response = check(lambda: send(client, "POST", url, data), may_write=lambda response: False)
        assert response.status_code in (302, 403, 404), response.status_code
        if who == "admin" and provider == "zoom":
            assert response.status_code == 302
            page = send(client, "GET", response["Location"])
            assert page.status_code == 200


@fuzzes("seminars:account_users")
@fuzz_settings(25)
@given(
    who=st.sampled_from(["anonymous", "outsider", "learner", "trainer", "editor", "admin", "admin"]),
    hosting=st.sampled_from(["account", "account", "user"]),
    query=st.fixed_dictionaries(
        {},
        optional={
            "provider": st.one_of(st.sampled_from(["zoom", "zoom", "zoom", "nope", "ZOOM", "custom"]), hostile_text),
            "q": hostile_text,
        },
    ),
    extra=st.dictionaries(hostile_text, hostile_text, max_size=2),
)
def test_account_users(scene, who, hosting, query, extra):
    """The room dialog's host search with whatever is asked, Zoom down: it writes nothing and says so in JSON."""
    with rolled_back():
        config = ProviderConfig.objects.get(provider="zoom")
        config.hosting = hosting
        config.account_id, config.account_client_id, config.account_client_secret = "acct-1", "s2s-id", "s2s-secret"
        config.save()
        client = client_for(scene.users()[who])
        url = reverse("seminars:account_users")
        response = check(lambda: send(client, "GET", url, {**extra, **query}), may_write=lambda response: False)
        assert response.status_code in (200, 302, 400, 403, 404), response.status_code
        if response.status_code == 200:  # Zoom is down: said in words, nothing listed
            assert response.json()["error"] and response.json()["users"] == []


CALLBACK_FIELDS = {
    "state": st.one_of(st.just("fuzz-state"), hostile_text),
    "code": hostile_text,
    "error": st.one_of(st.sampled_from(["access_denied", "invalid_request", "server_error"]), hostile_text),
    "error_description": hostile_text,
}


@fuzzes("virtualmeeting:auth_callback", "virtualmeeting:auth_callback_legacy")
@fuzz_settings(25)
@given(
    route=st.sampled_from(["virtualmeeting:auth_callback", "virtualmeeting:auth_callback_legacy"]),
    provider=st.sampled_from(["zoom", "zoom", "nope"]),
    query=st.one_of(
        mutated({"state": "fuzz-state", "code": "a-code"}, CALLBACK_FIELDS),
        st.fixed_dictionaries({}, optional=CALLBACK_FIELDS),
    ),
)
def test_auth_callback(scene, route, provider, query):
    """Zoom sends the person back with whatever it (or an attacker) put in the query string."""
    with rolled_back():
        OAuthState.objects.create(
            state="fuzz-state",
            user=scene.editor,
            provider="zoom",
            code_verifier="v" * 64,
            redirect_uri="http://testserver" + reverse(route, args=["zoom"]),
            opener_origin="http://testserver",
            created_at=timezone.now(),
        )
        client = client_for(scene.editor)
        # Claiming the single-use state writes, refused or not: only its own row may change.
        check(
            lambda: send(client, "GET", reverse(route, args=[provider]), query),
            exclude=("virtualmeeting.OAuthState",),
        )


@fuzzes("virtualmeeting:disconnect")
@fuzz_settings(20)
@given(
    provider=st.sampled_from(["zoom", "nope"]),
    data=st.fixed_dictionaries(
        {},
        optional={
            "next": st.one_of(
                st.sampled_from(["/profile/", "//evil.example.com/", "https://evil.example.com/", "javascript:x"]),
                hostile_text,
            )
        },
    ),
)
def test_disconnect(scene, provider, data):
    response = post_form(scene.editor, reverse("virtualmeeting:disconnect", args=[provider]), data)
    if response.status_code == 302:
        assert url_has_allowed_host_and_scheme(response.url, allowed_hosts={"testserver"}), "stays on the site"


# --- The Zoom webhook ---------------------------------------------------------------------------------

WEBHOOK = reverse("virtualmeeting_zoom:webhook")
meeting_id = st.one_of(st.sampled_from([MEETING_ID, int(MEETING_ID)]), json_value)
zoom_time = st.one_of(hostile_date_text, st.just("2030-06-10T09:00:00Z"), json_value)
participant = st.fixed_dictionaries(
    {},
    optional={
        "user_id": json_value,
        "participant_uuid": st.one_of(st.just("dev-1"), json_value),
        "id": json_value,
        "user_name": st.one_of(hostile_text, json_value),
        "email": st.one_of(st.just("lena@example.com"), hostile_text, json_value),
        "registrant_id": json_value,
        "join_time": zoom_time,
        "leave_time": zoom_time,
        "leave_reason": st.one_of(hostile_text, json_value),
        "status": st.one_of(st.just("in_waiting_room"), json_value),
    },
)
recording_file = st.fixed_dictionaries(
    {"id": st.one_of(st.just("file-1"), json_value)},
    optional={
        "file_type": st.one_of(st.just("MP4"), json_value),
        "recording_type": json_value,
        "play_url": st.one_of(hostile_text, json_value),
        "status": st.one_of(st.just("completed"), json_value),
        "recording_start": zoom_time,
        "recording_end": zoom_time,
    },
)
meeting_object = st.fixed_dictionaries(
    {"id": meeting_id},
    optional={
        "uuid": st.one_of(st.just("occ-1"), json_value),
        "host_id": st.one_of(st.just(ZOOM_USER_ID), json_value),
        "topic": st.one_of(hostile_text, json_value),
        "start_time": zoom_time,
        "end_time": zoom_time,
        "duration": st.one_of(st.integers(), json_value, hostile_int_text),
        "timezone": st.one_of(hostile_zone, json_value),
        "agenda": st.one_of(hostile_text, json_value),
        "settings": json_value,
        "participant": st.one_of(participant, json_value),
        "recording_files": st.one_of(st.lists(st.one_of(recording_file, json_value), max_size=3), json_value),
        "share_url": st.one_of(hostile_text, json_value),
        "password": st.one_of(hostile_text, json_value),
    },
)
MEETING_EVENTS = sorted({"meeting.updated", "meeting.deleted", *PARTICIPATION_EVENTS, *RECORDING_EVENTS})
zoom_event = st.one_of(
    st.fixed_dictionaries(
        {
            "event": st.sampled_from(MEETING_EVENTS),
            "payload": st.fixed_dictionaries({"object": st.one_of(meeting_object, json_value)}),
        },
        optional={"event_ts": st.one_of(st.just(1796337554000), json_value)},
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("app_deauthorized"),
            "payload": st.fixed_dictionaries({"user_id": st.one_of(st.just(ZOOM_USER_ID), json_value)}),
        }
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("endpoint.url_validation"),
            "payload": st.fixed_dictionaries({"plainToken": st.one_of(st.just("qgg8vlvZRS6UYooatFL8Aw"), json_value)}),
        }
    ),
    st.fixed_dictionaries({"event": json_value, "payload": json_value}),
    json_value,
)
webhook_body = st.one_of(
    zoom_event.map(lambda event: json.dumps(event).encode()),
    hostile_json_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
)


def _signature(body: bytes, timestamp: str) -> str:
    return "v0=" + hmac.new(WEBHOOK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


@st.composite
def webhook_headers(draw, body: bytes) -> dict:
    """Mostly Zoom's valid signature (so the body is read), sometimes a forged or malformed one."""
    timestamp = str(int(time.time()))
    kind = draw(st.sampled_from(["valid", "valid", "valid", "stale", "hostile", "missing"]))
    if kind == "missing":
        return {}
    if kind == "stale":
        timestamp = str(int(time.time()) - 301)
    headers = {"HTTP_X_ZM_REQUEST_TIMESTAMP": timestamp, "HTTP_X_ZM_SIGNATURE": _signature(body, timestamp)}
    if kind == "hostile":
        name = draw(st.sampled_from(list(headers)))
        value = draw(st.one_of(hostile_int_text, hostile_text))
        headers[name] = value.encode("utf-8", "surrogatepass").decode("latin-1")  # what WSGI hands over
    return headers


@fuzzes("virtualmeeting_zoom:webhook")
@fuzz_settings(60)
@given(data=st.data())
def test_webhook(scene, data):
    body = data.draw(webhook_body)
    headers = data.draw(webhook_headers(body))
    with rolled_back():
        response = check(
            lambda: Client().post(WEBHOOK, data=body, content_type="application/json", **headers),
            refused=lambda r: r.status_code >= 400,
        )
    assert response.status_code in (200, 204, 400, 401), response.status_code


# The events Zoom sends, each well formed, then one to three of its fields (or its participant's, or a
# recording file's) given any JSON value: what a signed body can carry to the task behind the webhook.
ZOOM_TIME = "2030-06-10T09:00:00Z"
PARTICIPANT = {
    "participant_uuid": "dev-2",
    "user_id": "16778240",
    "user_name": "Lena",
    "email": "lena@example.com",
    "registrant_id": "",
    "join_time": ZOOM_TIME,
    "leave_time": "2030-06-10T09:50:00Z",
    "leave_reason": "left the meeting",
}
RECORDING_FILE = {
    "id": "file-1",
    "file_type": "MP4",
    "recording_type": "shared_screen_with_speaker_view",
    "play_url": "https://zoom.us/rec/play/abc",
    "status": "completed",
    "recording_start": ZOOM_TIME,
    "recording_end": "2030-06-10T09:50:00Z",
}
MEETING_OBJECT = {
    "id": int(MEETING_ID),
    "uuid": "occ-1",
    "host_id": ZOOM_USER_ID,
    "topic": "Safety training: Fire wardens",
    "start_time": ZOOM_TIME,
    "end_time": "2030-06-10T10:00:00Z",
    "duration": 60,
    "timezone": "UTC",
    "participant": PARTICIPANT,
    "recording_files": [RECORDING_FILE],
    "share_url": "https://zoom.us/rec/share/abc",
    "password": "rec-pass",
}
any_json = st.one_of(json_value, hostile_text, hostile_date_text)


@st.composite
def zoom_event_with_broken_fields(draw) -> dict:
    name = draw(st.sampled_from(sorted(HANDLED_EVENTS)))
    meeting = dict(MEETING_OBJECT)
    part = draw(st.sampled_from(["object", "object", "participant", "recording_file"]))
    if part == "participant":
        meeting["participant"] = draw(mutated(PARTICIPANT, dict.fromkeys(PARTICIPANT, any_json)))
    elif part == "recording_file":
        meeting["recording_files"] = [draw(mutated(RECORDING_FILE, dict.fromkeys(RECORDING_FILE, any_json)))]
    else:
        meeting = draw(mutated(meeting, dict.fromkeys(meeting, any_json)))
    payload = {"user_id": ZOOM_USER_ID, "account_id": "Q4NYNnaSQAuNPy3wi4p3Mw", "object": meeting}
    if name == "app_deauthorized" and draw(st.booleans()):
        payload["user_id"] = draw(any_json)
    event = {"event": name, "event_ts": 1796337554000, "payload": payload}
    if draw(st.integers(0, 4)) == 0:
        event["event_ts"] = draw(any_json)
    return event


@fuzzes("virtualmeeting_zoom:webhook")
@fuzz_settings(100)
@given(event=zoom_event_with_broken_fields())
def test_webhook_events_with_broken_fields(scene, event):
    """Signed as Zoom signs: the task behind the endpoint must take whatever the fields hold."""
    body = json.dumps(event).encode()
    timestamp = str(int(time.time()))
    headers = {"HTTP_X_ZM_REQUEST_TIMESTAMP": timestamp, "HTTP_X_ZM_SIGNATURE": _signature(body, timestamp)}
    with rolled_back():
        response = check(
            lambda: Client().post(WEBHOOK, data=body, content_type="application/json", **headers),
            refused=lambda r: r.status_code >= 400,
        )
    assert response.status_code == 204, response.status_code
