"""Alternative hosts of a meeting in the site's Zoom account, through the framework's sync with Zoom stubbed
strictly by `responses` (every stub must be called, any other request fails): the create carries
settings.alternative_hosts (semicolon-separated emails) with Zoom's mail to them switched off; changing them is
one PATCH of those settings alone (one update of the host's daily budget), not a new meeting; a meeting in a
trainer's own connection sends none."""

import json

from virtualmeeting.models import VirtualMeeting
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.tests import test_account_meetings as account_meetings
from virtualmeeting_zoom.tests.conftest import API, TOKEN_URL, meeting_json
from virtualmeeting_zoom.tests.test_account_meetings import HOST, HOST_MEETINGS, MEETING_URL, grant, put

# The site's Zoom account and strict `responses` (every stub called), with a ticking clock and a cache of their own.
account, strict = account_meetings.account, account_meetings.strict
clock, own_cache = account_meetings.clock, account_meetings.own_cache

ALT = ("ann@example.com", "ben@example.com")


def test_the_create_names_the_alternative_hosts_and_does_not_mail_them(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    create = strict.post(HOST_MEETINGS, status=201, json=meeting_json(host_id=HOST))
    meeting = put(trainer, alternative_hosts=ALT)

    assert meeting_sync(meeting.pk) == ["create"]

    settings = json.loads(create.calls[0].request.body)["settings"]
    assert settings["alternative_hosts"] == "ann@example.com;ben@example.com"
    assert settings["alternative_hosts_email_notification"] is False
    assert VirtualMeeting.objects.get(pk=meeting.pk).synced_spec["alternative_hosts"] == list(ALT)


def test_changing_them_is_one_patch_of_those_settings_alone(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, status=201, json=meeting_json(host_id=HOST))
    meeting = put(trainer, alternative_hosts=ALT)
    meeting_sync(meeting.pk)
    update = strict.patch(MEETING_URL, status=204)

    put(trainer, alternative_hosts=("ben@example.com",))
    assert meeting_sync(meeting.pk) == ["update"]

    assert json.loads(update.calls[0].request.body) == {
        "settings": {"alternative_hosts": "ben@example.com", "alternative_hosts_email_notification": False}
    }
    assert limits.daily_quota_used(HOST) == 2  # the create and this one update
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    assert (row.remote_id, row.status, row.synced_spec["alternative_hosts"]) == (
        "85746065432",
        "available",
        ["ben@example.com"],
    )

    # All removed: Zoom is told so ("" names none), again in one PATCH.
    clear = strict.patch(MEETING_URL, status=204)
    put(trainer, alternative_hosts=())
    assert meeting_sync(meeting.pk) == ["update"]
    assert json.loads(clear.calls[0].request.body)["settings"]["alternative_hosts"] == ""
    assert len(strict.calls) == 4  # token, create, two PATCHes: nothing deleted or made again


def test_the_same_alternative_hosts_again_make_no_call(account, trainer, strict):
    strict.post(TOKEN_URL, json=grant())
    strict.post(HOST_MEETINGS, status=201, json=meeting_json(host_id=HOST))
    meeting = put(trainer, alternative_hosts=ALT)
    meeting_sync(meeting.pk)
    version = VirtualMeeting.objects.get(pk=meeting.pk).desired_version

    put(trainer, alternative_hosts=ALT)

    assert VirtualMeeting.objects.get(pk=meeting.pk).desired_version == version
    assert meeting_sync(meeting.pk) == ["skipped"]
    assert len(strict.calls) == 2


def test_a_meeting_in_a_trainers_own_connection_has_none(zoom_config, connection, strict):
    create = strict.post(f"{API}/users/me/meetings", status=201, json=meeting_json())
    meeting = put(connection.user, hosting="user", host="", alternative_hosts=ALT)

    assert meeting_sync(meeting.pk) == ["create"]

    assert "alternative_hosts" not in json.loads(create.calls[0].request.body)["settings"]
    assert VirtualMeeting.objects.get(pk=meeting.pk).alternative_hosts == []
