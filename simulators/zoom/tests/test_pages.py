import requests

from simulators.zoom.tests.conftest import TIMEOUT


def test_join_url_says_which_meeting_as_attendee(pro):
    meeting = pro.create(topic="Pottery <basics>", start_time="2030-07-01T10:00:00", timezone="Europe/London").json()
    page = requests.get(meeting["join_url"], timeout=TIMEOUT)
    assert page.status_code == 200
    assert "You joined the meeting as an attendee" in page.text
    assert "Pottery &lt;basics&gt;" in page.text
    assert "10:00 (Europe/London)" in page.text and "09:00 UTC" in page.text


def test_join_url_with_a_wrong_passcode(pro, sim):
    meeting_id = pro.create().json()["id"]
    page = requests.get(f"{sim.url}/j/{meeting_id}?pwd=wrong", timeout=TIMEOUT)
    assert page.status_code == 403 and "passcode" in page.text


def test_start_url_says_host_and_expires_after_two_hours(pro, sim):
    sim.freeze_clock()
    meeting = pro.create(topic="Clay").json()
    page = requests.get(meeting["start_url"], timeout=TIMEOUT)
    assert page.status_code == 200
    assert "You started the meeting as the host" in page.text and "pro@zoomsim.test" in page.text
    assert "Clay" in page.text
    sim.advance_clock(2 * 3600 + 1)
    expired = requests.get(meeting["start_url"], timeout=TIMEOUT)
    assert expired.status_code == 403 and "expired" in expired.text


def test_start_url_with_someone_elses_token(pro, sim):
    first = pro.create().json()
    second = pro.create().json()
    zak = first["start_url"].split("zak=")[1]
    page = requests.get(f"{sim.url}/s/{second['id']}?zak={zak}", timeout=TIMEOUT)
    assert page.status_code == 403


def test_links_of_a_deleted_meeting(pro, sim):
    meeting = pro.create().json()
    pro.delete(f"/meetings/{meeting['id']}")
    for url in (meeting["join_url"], meeting["start_url"]):
        page = requests.get(url, timeout=TIMEOUT)
        assert page.status_code == 404 and "invalid" in page.text
