"""Cloud recordings: scripted for an ended occurrence, their webhooks, the GET, and the pages behind the URLs."""

import json
from urllib.parse import quote

import pytest
import requests

from simulators.zoom.client import AdminAPIError
from simulators.zoom.tests.conftest import TIMEOUT, Api, connect

START = "2030-01-15T10:00:00Z"
CLOUD = {"auto_recording": "cloud"}


@pytest.fixture(autouse=True)
def _clock(sim):
    sim.set_clock(now="2030-01-15T12:00:00Z")
    sim.freeze_clock()


def _ended(sim, api, settings=CLOUD, uuid=None):
    meeting = api.create(topic="Fire safety", start_time=START, settings=settings).json()
    occurrence = sim.start_meeting(meeting["id"], at=START, uuid=uuid)
    sim.end_meeting(occurrence, at=3600)
    return meeting, occurrence


def _get(api, ref):
    return api.get(f"/meetings/{quote(quote(str(ref), safe=''), safe='')}/recordings")


def _events(receiver, name):
    return [r["event"] for r in receiver.events if r["event"]["event"] == name]


def test_recording_completed_and_the_get_give_the_same_recording(sim, pro, receiver):
    meeting, uuid = _ended(sim, pro)
    added = sim.add_recording(uuid, passcode="Fire#2030")
    [event] = _events(receiver, "recording.completed")  # the receiver checked its signature
    payload = event["payload"]
    obj = payload["object"]
    assert {key: obj[key] for key in ("id", "uuid", "host_id", "topic", "start_time")} == {
        "id": meeting["id"],
        "uuid": uuid,
        "host_id": meeting["host_id"],
        "topic": "Fire safety",
        "start_time": START,
    }
    assert obj["password"] == "Fire#2030" and obj["recording_play_passcode"]
    assert obj["share_url"].startswith(f"{sim.url}/rec/share/")
    assert payload["download_token"] == event["download_token"] == added["download_token"]
    assert [(f["file_type"], f["recording_type"]) for f in obj["recording_files"]] == [
        ("MP4", "shared_screen_with_speaker_view"),
        ("M4A", "audio_only"),
    ]
    first = obj["recording_files"][0]
    assert {
        "id",
        "file_type",
        "recording_type",
        "play_url",
        "download_url",
        "status",
        "recording_start",
        "recording_end",
    } <= set(first)
    assert (first["status"], first["recording_start"], first["recording_end"]) == (
        "completed",
        START,
        "2030-01-15T11:00:00Z",
    )
    assert obj["recording_count"] == 2 and obj["duration"] == 60

    answer = _get(pro, uuid)
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Category"] == "Light"
    assert answer.json() == obj == added["recording"]
    assert _get(pro, meeting["id"]).json()["uuid"] == uuid  # a meeting id: its latest occurrence
    with_token = pro.get(f"/meetings/{meeting['id']}/recordings", params={"include_fields": "download_access_token"})
    assert with_token.json()["download_access_token"]


def test_zoom_records_only_licensed_hosts_cloud_meetings_after_they_end(sim, pro):
    _, local = _ended(sim, pro, settings={"auto_recording": "local"})
    with pytest.raises(AdminAPIError, match="auto_recording is 'local'"):
        sim.add_recording(local)
    meeting = pro.create(settings=CLOUD).json()
    running = sim.start_meeting(meeting["id"])
    with pytest.raises(AdminAPIError, match="after the meeting ends"):
        sim.add_recording(running)
    sim.end_meeting(running)
    sim.add_recording(running)
    with pytest.raises(AdminAPIError, match="already has its recording"):
        sim.add_recording(running)
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    _, unlicensed = _ended(sim, basic)
    with pytest.raises(AdminAPIError, match="licensed host"):
        sim.add_recording(unlicensed)


def test_no_recording(sim, pro):
    meeting, uuid = _ended(sim, pro)
    answer = _get(pro, uuid)
    assert answer.status_code == 404
    assert answer.json() == {"code": 3301, "message": "There is no recording for this meeting."}
    assert _get(pro, "no-such-uuid==").json()["code"] == 3301
    sim.add_recording(uuid)
    other = Api(
        sim,
        connect(sim, "other@otheraccount.test", "zoomsim-published-client-id", "zoomsim-published-client-secret")[
            "access_token"
        ],
    )
    assert _get(other, uuid).json()["code"] == 3301


def test_trash_recover_and_delete(sim, pro, receiver):
    _, uuid = _ended(sim, pro)
    share_url = sim.add_recording(uuid, passcode="")["recording"]["share_url"]
    assert sim.trash_recording(uuid)["status"] == "trashed"
    assert _get(pro, uuid).json()["code"] == 3301
    assert requests.get(share_url, timeout=TIMEOUT).status_code == 404
    sim.recover_recording(uuid)
    assert _get(pro, uuid).status_code == 200
    assert requests.get(share_url, timeout=TIMEOUT).status_code == 200
    sim.delete_recording(uuid)
    assert _get(pro, uuid).json()["code"] == 3301
    with pytest.raises(AdminAPIError, match="cannot be completed"):
        sim.recover_recording(uuid)
    names = [r["event"]["event"] for r in receiver.events if r["event"]["event"].startswith("recording.")]
    assert names == ["recording.completed", "recording.trashed", "recording.recovered", "recording.deleted"]
    trashed = _events(receiver, "recording.trashed")[0]["payload"]
    assert trashed["object"]["uuid"] == uuid and trashed["operator"] == "pro@zoomsim.test"


def test_the_play_page_asks_for_the_passcode(sim, pro):
    _, uuid = _ended(sim, pro)
    recording = sim.add_recording(uuid, passcode="s3cret")["recording"]
    play_url = recording["recording_files"][0]["play_url"]
    asked = requests.get(play_url, timeout=TIMEOUT)
    assert asked.status_code == 200 and "Enter the passcode" in asked.text and "Fire safety" not in asked.text
    wrong = requests.post(play_url, data={"passcode": "guess"}, timeout=TIMEOUT)
    assert wrong.status_code == 403 and "Wrong passcode" in wrong.text
    right = requests.post(play_url, data={"passcode": "s3cret"}, timeout=TIMEOUT)
    assert right.status_code == 200 and "Recording: Fire safety" in right.text
    spliced = requests.get(f"{recording['share_url']}?pwd={recording['recording_play_passcode']}", timeout=TIMEOUT)
    assert spliced.status_code == 200 and "Recording: Fire safety" in spliced.text


def test_a_recording_without_passcode_plays_at_once(sim, pro):
    _, uuid = _ended(sim, pro)
    recording = sim.add_recording(uuid, passcode="")["recording"]
    assert "password" not in recording and "recording_play_passcode" not in recording
    page = requests.get(recording["recording_files"][1]["play_url"], timeout=TIMEOUT)
    assert page.status_code == 200 and "audio_only" in page.text


def test_download_needs_a_token(sim, pro):
    _, uuid = _ended(sim, pro)
    added = sim.add_recording(uuid)
    url = added["recording"]["recording_files"][0]["download_url"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    by_download_token = requests.get(url, params={"access_token": added["download_token"]}, timeout=TIMEOUT)
    assert by_download_token.status_code == 200 and by_download_token.headers["Content-Type"] == "video/mp4"
    assert pro.session.get(url, timeout=TIMEOUT).status_code == 200  # the host's bearer token
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    assert basic.session.get(url, timeout=TIMEOUT).status_code == 401
    sim.advance_clock(24 * 3600)
    assert requests.get(url, params={"access_token": added["download_token"]}, timeout=TIMEOUT).status_code == 401


def test_recording_scopes(sim, pro):
    _, uuid = _ended(sim, pro)
    sim.add_recording(uuid)
    only_meetings = Api(
        sim,
        connect(sim, client_id="zoomsim-meetings-only-client-id", secret="zoomsim-meetings-only-client-secret")[
            "access_token"
        ],
    )
    assert _get(only_meetings, uuid).json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:"
        "[cloud_recording:read:list_recording_files, cloud_recording:read:list_recording_files:admin].",
    }
    classic = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    assert _get(classic, uuid).status_code == 200
    sim.edit_app("zoomsim-classic-client-id", scopes="meeting:read meeting:write user:read")
    reduced = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    assert "[recording:read, recording:read:admin]" in _get(reduced, uuid).json()["message"]


def test_a_uuid_with_slashes_must_be_double_encoded(sim, pro):
    _, uuid = _ended(sim, pro, uuid="//rec/ord==")
    sim.add_recording(uuid)
    assert pro.get(f"/meetings/{quote(uuid, safe='')}/recordings").json()["code"] == 3301
    assert _get(pro, uuid).status_code == 200


def test_recording_webhooks_follow_the_switch(sim, pro, receiver):
    _, uuid = _ended(sim, pro)
    sim.set_webhooks(False)
    sim.add_recording(uuid)
    assert _events(receiver, "recording.completed") == []
    assert _get(pro, uuid).status_code == 200  # the product finds it by polling


def test_ctl_scripts_recordings(sim, pro, capsys):
    from simulators.zoom.cli import ctl

    def run(*args):
        assert ctl(["--url", sim.url, *args]) == 0
        return json.loads(capsys.readouterr().out)

    meeting, uuid = _ended(sim, pro)
    assert run("add-recording", uuid, "--passcode", "abc")["recording"]["password"] == "abc"
    assert run("trash-recording", uuid)["status"] == "trashed"
    assert [r["status"] for r in run("recordings", "--meeting", str(meeting["id"]))] == ["trashed"]
