"""Registrants (personal join links) at Zoom: request bodies, paging, buckets by label, errors, the licence rule.

Zoom is stubbed with strict `responses` mocks: every stubbed answer must be asked for, and any other
request fails the test. Shapes follow the OpenAPI spec (meetingRegistrantCreate, addBatchRegistrants,
meetingRegistrants, meetingRegistrantStatus) and the "Registrants" section of zoom-api.md.
"""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from django.utils import timezone
from responses import matchers

from virtualmeeting.errors import MeetingNotFound, ProviderError, RateLimited
from virtualmeeting.models import ProviderConnection
from virtualmeeting.providers.base import RegistrantSpec
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.models import ZoomDailyUsage, ZoomRateBucket
from virtualmeeting_zoom.options import zoom_options
from virtualmeeting_zoom.payloads import create_body, remote_meeting, update_body
from virtualmeeting_zoom.tests.conftest import (
    CLASSIC,
    GRANULAR,
    ZOOM_ACCOUNT_ID,
    ZOOM_USER_ID,
    make_connection,
    meeting_json,
)
from virtualmeeting_zoom.tests.test_meetings import CREATE_URL, MEETING_ID, MEETING_URL, OPTIONS, spec

REGISTRANTS_URL = f"{MEETING_URL}/registrants"
BATCH_URL = f"{MEETING_URL}/batch_registrants"
STATUS_URL = f"{MEETING_URL}/registrants/status"
MAILS_OFF = {"approval_type": 0, "registrants_confirmation_email": False, "registrants_email_notification": False}
REGISTRANT_SCOPES = [
    "meeting:write:registrant",
    "meeting:write:batch_registrants",
    "meeting:read:list_registrants",
    "meeting:update:registrant_status",
]
DAILY_REGISTRANT_MESSAGE = (
    'You have exceeded the daily rate limit of "3" for meeting Perform batch registration API requests for the '
    'registrant "vm-r1-0a1b2c3d@lms.example". You can resume these API requests at GMT 00:00:00.'
)


def person(n: int, **overrides) -> RegistrantSpec:
    values = {"key": str(n), "email": f"vm-r{n}-0a1b2c3d@lms.example", "first_name": f"Learner{n}", "last_name": "Lee"}
    values.update(overrides)
    return RegistrantSpec(**values)


def join_link(n: int) -> str:
    return f"https://zoom.us/w/{MEETING_ID}?tk=personal-{n}&pwd=p"


def batch_answer(*numbers, unapproved=()):
    """addBatchRegistrants' 200: email, registrant_id and (for an approved registration) join_url."""
    answers = []
    for n in numbers:
        entry = {"email": person(n).email, "registrant_id": f"reg{n}"}
        if n not in unapproved:
            entry["join_url"] = join_link(n)
        answers.append(entry)
    return {"registrants": answers}


def listed(n: int, status="approved") -> dict:
    """A registrant of meetingRegistrants' list."""
    entry = {
        "id": f"reg{n}",
        "email": person(n).email,
        "first_name": f"Learner{n}",
        "last_name": "Lee",
        "status": status,
        "create_time": "2026-05-01T08:00:00Z",
    }
    if status == "approved":
        entry["join_url"] = join_link(n)
    return entry


def sent_json(call):
    return json.loads(call.request.body)


@pytest.fixture
def strict():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def connection(trainer):
    """A licensed host whose grant has the registrant scopes."""
    return make_connection(trainer, scopes=" ".join([GRANULAR, *REGISTRANT_SCOPES]))


@pytest.fixture
def fast(provider):
    """Per-second limits high enough that no test waits for a token."""
    provider.config.options = {"create_per_second": 1000, "light_per_second": 1000, "heavy_per_second": 1000}
    provider.config.save()
    return provider


@pytest.fixture
def spent(monkeypatch):
    """The per-second tokens taken from the account's shared buckets, by label.

    Records each token that `limits.rate_take` grants and lets the real bucket spend it.
    """
    taken = Counter()
    take = limits.rate_take

    def recording_take(key, rate):
        wait = take(key, rate)
        if wait == 0.0:
            taken[key.rsplit(":", 1)[1]] += 1
        return wait

    monkeypatch.setattr(limits, "rate_take", recording_take)
    return taken


def assert_no_daily_budget_spent():
    assert limits.daily_quota_used(ZOOM_USER_ID) == 0
    assert not ZoomDailyUsage.objects.exists()


# --- the meeting's registration settings -----------------------------------------------------


def test_create_with_registration_approves_automatically_and_switches_zooms_mails_off(fast, connection, strict):
    create = strict.post(CREATE_URL, status=201, json=meeting_json(settings={"approval_type": 0}))
    remote = fast.create_meeting(connection=connection, spec=spec(registration=True))
    settings = sent_json(create.calls[0])["settings"]
    assert {key: settings[key] for key in MAILS_OFF} == MAILS_OFF
    assert settings["waiting_room"] is True  # the site's options are still there
    assert remote.registration is True


def test_create_without_registration_asks_for_none():
    settings = create_body(spec(), OPTIONS)["settings"]
    assert settings["approval_type"] == 2
    assert "registrants_confirmation_email" not in settings


def test_update_sends_the_registration_settings_only_when_registration_changes():
    before, after = spec(), spec(registration=True)
    assert update_body(after, before) == {"settings": MAILS_OFF}
    assert update_body(before, after) == {"settings": {"approval_type": 2}}
    assert update_body(spec(topic="Renamed", registration=True), after) == {"topic": "Renamed"}
    assert update_body(after, after) == {}


def test_update_without_previous_puts_the_registration_settings_back(fast, connection, strict):
    patch = strict.patch(MEETING_URL, status=204)
    fast.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(registration=True), previous=None)
    assert sent_json(patch.calls[0])["settings"] == MAILS_OFF


def test_turning_registration_on_is_a_meeting_update_and_spends_one_daily_unit(fast, connection, strict):
    strict.patch(MEETING_URL, status=204)
    fast.update_meeting(connection=connection, remote_id=MEETING_ID, spec=spec(registration=True), previous=spec())
    assert limits.daily_quota_used(ZOOM_USER_ID) == 1


def test_get_meeting_reads_the_registration_back(fast, connection, strict):
    strict.get(MEETING_URL, json=meeting_json(settings={**MAILS_OFF, "waiting_room": True}))
    remote = fast.get_meeting(connection=connection, remote_id=MEETING_ID)
    assert remote.registration is True
    assert remote.extra["registration_settings"] == MAILS_OFF


def _remote(**settings):
    wanted = spec()
    data = meeting_json(
        topic=wanted.topic,
        start_time=wanted.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration=60,
        agenda=wanted.agenda,
        settings=settings,
    )
    return remote_meeting(data)


@pytest.mark.parametrize(
    ("zoom_settings", "registration", "matches"),
    [
        (MAILS_OFF, True, True),
        ({"approval_type": 2}, True, False),  # registration turned off in Zoom
        ({**MAILS_OFF, "approval_type": 1}, True, False),  # manual approval: learners would wait for the host
        ({**MAILS_OFF, "registrants_email_notification": True}, True, False),  # Zoom would mail our addresses
        ({**MAILS_OFF, "registrants_confirmation_email": True}, True, False),
        ({"approval_type": 2, "registrants_confirmation_email": True}, False, True),
        (MAILS_OFF, False, False),  # registration turned on in Zoom: the shared link would show a form
        ({"waiting_room": True}, True, True),  # Zoom did not say: nothing to restore
    ],
)
def test_a_registration_changed_in_zoom_is_restored_by_the_check(provider, zoom_settings, registration, matches):
    assert provider.remote_matches(_remote(**zoom_settings), spec(registration=registration)) is matches


# --- register -----------------------------------------------------------------------------------


def test_one_person_is_added_alone_from_the_light_bucket(fast, connection, strict, spent):
    add = strict.post(
        REGISTRANTS_URL,
        status=201,
        json={
            "id": int(MEETING_ID),
            "registrant_id": "reg1",
            "join_url": join_link(1),
            "topic": "Safety",
            "start_time": "2026-06-01T08:00:00Z",
        },
    )
    [registrant] = fast.register(connection=connection, remote_id=MEETING_ID, people=[person(1)])
    assert sent_json(add.calls[0]) == {
        "email": "vm-r1-0a1b2c3d@lms.example",
        "first_name": "Learner1",
        "last_name": "Lee",
        "auto_approve": True,
    }
    assert (registrant.registrant_id, registrant.email, registrant.join_url) == (
        "reg1",
        "vm-r1-0a1b2c3d@lms.example",
        join_link(1),
    )
    assert spent == {"light": 1}
    assert_no_daily_budget_spent()


def test_several_people_go_in_one_batch_from_the_heavy_bucket(fast, connection, strict, spent):
    batch = strict.post(BATCH_URL, status=200, json=batch_answer(1, 2, 3))
    found = fast.register(connection=connection, remote_id=MEETING_ID, people=[person(1), person(2), person(3)])
    assert sent_json(batch.calls[0]) == {
        "auto_approve": True,
        "registrants_confirmation_email": False,
        "registrants": [{"email": person(n).email, "first_name": f"Learner{n}", "last_name": "Lee"} for n in (1, 2, 3)],
    }
    assert [(r.registrant_id, r.join_url) for r in found] == [(f"reg{n}", join_link(n)) for n in (1, 2, 3)]
    assert spent == {"heavy": 1}
    assert_no_daily_budget_spent()


def test_a_full_batch_of_30_is_one_call(fast, connection, strict, spent):
    numbers = range(1, 31)
    strict.post(BATCH_URL, status=200, json=batch_answer(*numbers))
    found = fast.register(connection=connection, remote_id=MEETING_ID, people=[person(n) for n in numbers])
    assert len(found) == 30
    assert fast.registrant_batch_size == 30
    assert spent == {"heavy": 1}


def test_more_than_30_is_a_mistake_of_the_caller_and_nothing_is_sent(fast, connection, strict):
    with pytest.raises(ValueError):
        fast.register(connection=connection, remote_id=MEETING_ID, people=[person(n) for n in range(31)])


def test_names_are_cut_to_zooms_64_characters(fast, connection, strict):
    batch = strict.post(BATCH_URL, status=200, json=batch_answer(1, 2))
    long_name = "Ж" * 80
    fast.register(connection=connection, remote_id=MEETING_ID, people=[person(1, last_name=long_name), person(2)])
    assert sent_json(batch.calls[0])["registrants"][0]["last_name"] == "Ж" * 64


def test_a_registration_zoom_holds_unapproved_is_approved_and_its_link_asked_again(fast, connection, strict, spent):
    # Zoom answers an address it already holds with that registration: here one cancelled earlier, with no link.
    strict.post(BATCH_URL, status=200, json=batch_answer(1, 2, unapproved=(2,)))
    approve = strict.put(STATUS_URL, status=204)
    again = strict.post(
        REGISTRANTS_URL, status=201, json={"id": int(MEETING_ID), "registrant_id": "reg2", "join_url": join_link(2)}
    )
    found = fast.register(connection=connection, remote_id=MEETING_ID, people=[person(1), person(2)])
    assert sent_json(approve.calls[0]) == {"action": "approve", "registrants": [{"id": "reg2"}]}
    assert sent_json(again.calls[0])["email"] == person(2).email
    assert [(r.registrant_id, r.join_url) for r in found] == [("reg1", join_link(1)), ("reg2", join_link(2))]
    assert spent == {"heavy": 1, "create": 1, "light": 1}  # batch, status (Medium), add
    assert_no_daily_budget_spent()


def test_a_registrant_zoom_gives_no_link_for_is_left_out_for_the_framework_to_look_for(fast, connection, strict):
    strict.post(BATCH_URL, status=200, json=batch_answer(1, 2, unapproved=(2,)))
    strict.put(STATUS_URL, status=204)
    strict.post(REGISTRANTS_URL, status=201, json={"id": int(MEETING_ID), "registrant_id": "reg2"})
    found = fast.register(connection=connection, remote_id=MEETING_ID, people=[person(1), person(2)])
    assert [r.registrant_id for r in found] == ["reg1"]


def test_register_waits_for_the_heavy_bucket_without_sending(provider, connection, strict, settings):
    settings.REDIS_URL = ""
    provider.config.options = {"heavy_per_second": 1, "light_per_second": 1000, "create_per_second": 1000}
    provider.config.save()
    # Other workers' batches have used the next seconds of the account's Heavy limit.
    ZoomRateBucket.objects.create(key=limits.bucket_key(ZOOM_ACCOUNT_ID, "heavy"), tokens=-4, updated=time.time())
    with pytest.raises(RateLimited) as caught:
        provider.register(connection=connection, remote_id=MEETING_ID, people=[person(1), person(2)])
    assert not caught.value.daily
    assert_no_daily_budget_spent()  # and the strict mock saw no request


def test_heavy_is_the_lowest_per_second_limit_of_each_plan(provider):
    for plan, heavy in (("free", 1), ("pro", 10), ("business", 40)):
        provider.config.options = {"plan": plan}
        options = zoom_options(provider.config)
        assert options["heavy_per_second"] == heavy
        assert heavy < options["create_per_second"] < options["light_per_second"]


# --- list ---------------------------------------------------------------------------------------


def test_list_reads_every_page_of_approved_registrants_from_the_medium_bucket(fast, connection, strict, spent):
    strict.get(
        REGISTRANTS_URL,
        match=[matchers.query_param_matcher({"status": "approved", "page_size": "300"})],
        json={"page_size": 300, "total_records": 3, "next_page_token": "page-2", "registrants": [listed(1), listed(2)]},
    )
    strict.get(
        REGISTRANTS_URL,
        match=[matchers.query_param_matcher({"status": "approved", "page_size": "300", "next_page_token": "page-2"})],
        json={"page_size": 300, "total_records": 3, "next_page_token": "", "registrants": [listed(3)]},
    )
    found = fast.list_registrants(connection=connection, remote_id=MEETING_ID)
    assert [(r.registrant_id, r.email, r.join_url) for r in found] == [
        (f"reg{n}", person(n).email, join_link(n)) for n in (1, 2, 3)
    ]
    assert spent == {"create": 2}  # Zoom's Medium label: the bucket creates use
    assert_no_daily_budget_spent()


def test_list_leaves_out_entries_without_an_id_or_a_link(fast, connection, strict):
    unreadable = [{"email": "x@lms.example"}, {**listed(2), "join_url": ""}, "junk"]
    strict.get(REGISTRANTS_URL, json={"next_page_token": "", "registrants": [listed(1), *unreadable]})
    assert [r.registrant_id for r in fast.list_registrants(connection=connection, remote_id=MEETING_ID)] == ["reg1"]


# --- cancel -------------------------------------------------------------------------------------


def test_cancel_sends_one_status_change_from_the_medium_bucket(fast, connection, strict, spent):
    status = strict.put(STATUS_URL, status=204)
    fast.cancel_registrants(connection=connection, remote_id=MEETING_ID, registrant_ids=["reg1", "reg2"])
    assert sent_json(status.calls[0]) == {"action": "cancel", "registrants": [{"id": "reg1"}, {"id": "reg2"}]}
    assert spent == {"create": 1}
    assert_no_daily_budget_spent()


def test_cancel_with_one_already_gone_cancels_the_others(fast, connection, strict):
    # Zoom changes nothing when it does not know one of them.
    strict.put(
        STATUS_URL,
        status=404,
        json={"code": 404, "message": "Meeting or registrant not found."},
        match=[matchers.json_params_matcher({"action": "cancel", "registrants": [{"id": "reg1"}, {"id": "gone"}]})],
    )
    strict.get(REGISTRANTS_URL, json={"next_page_token": "", "registrants": [listed(1), listed(3)]})
    second = strict.put(
        STATUS_URL,
        status=204,
        match=[matchers.json_params_matcher({"action": "cancel", "registrants": [{"id": "reg1"}]})],
    )
    fast.cancel_registrants(connection=connection, remote_id=MEETING_ID, registrant_ids=["reg1", "gone"])
    assert second.call_count == 1


def test_cancel_of_registrants_all_gone_is_no_error(fast, connection, strict):
    strict.put(STATUS_URL, status=404, json={"code": 404, "message": "Meeting or registrant not found."})
    strict.get(REGISTRANTS_URL, json={"next_page_token": "", "registrants": [listed(3)]})
    fast.cancel_registrants(connection=connection, remote_id=MEETING_ID, registrant_ids=["gone"])


def test_cancel_of_more_than_30_is_a_mistake_of_the_caller(fast, connection, strict):
    with pytest.raises(ValueError):
        fast.cancel_registrants(connection=connection, remote_id=MEETING_ID, registrant_ids=[str(n) for n in range(31)])


# --- errors -------------------------------------------------------------------------------------

REGISTER_ONE = (
    "POST",
    REGISTRANTS_URL,
    lambda p, c: p.register(connection=c, remote_id=MEETING_ID, people=[person(1)]),
)
REGISTER_BATCH = (
    "POST",
    BATCH_URL,
    lambda p, c: p.register(connection=c, remote_id=MEETING_ID, people=[person(1), person(2)]),
)
LIST = ("GET", REGISTRANTS_URL, lambda p, c: p.list_registrants(connection=c, remote_id=MEETING_ID))
CANCEL = (
    "PUT",
    STATUS_URL,
    lambda p, c: p.cancel_registrants(connection=c, remote_id=MEETING_ID, registrant_ids=["r"]),
)
EVERY_CALL = [REGISTER_ONE, REGISTER_BATCH, LIST, CANCEL]
CALL_IDS = ["add", "batch", "list", "cancel"]


def _refused(strict, call, status, body):
    method, url, _ = call
    strict.add(method, url, status=status, json=body)


@pytest.mark.parametrize("call", EVERY_CALL, ids=CALL_IDS)
def test_a_meeting_gone_in_zoom_is_not_found(fast, connection, strict, call):
    _refused(strict, call, 404, {"code": 3001, "message": f"Meeting does not exist: {MEETING_ID}."})
    with pytest.raises(MeetingNotFound):
        call[2](fast, connection)


def test_the_specs_300_not_found_is_not_found(fast, connection, strict):
    _refused(strict, LIST, 400, {"code": 300, "message": f"Meeting {MEETING_ID} is not found or has expired."})
    with pytest.raises(MeetingNotFound):
        LIST[2](fast, connection)


@pytest.mark.parametrize(
    ("call", "status", "body"),
    [
        (
            REGISTER_ONE,
            404,
            {"code": 404, "message": f"Registration has not been enabled for this meeting: {MEETING_ID}."},
        ),
        (
            REGISTER_BATCH,
            404,
            {"code": 404, "message": f"Registration has not been enabled for this meeting: {MEETING_ID}."},
        ),
        (LIST, 400, {"code": 300, "message": f"This meeting has not set registration as required: {MEETING_ID}."}),
        (CANCEL, 400, {"code": 300, "message": f"This meeting has not set registration as required: {MEETING_ID}."}),
    ],
    ids=CALL_IDS,
)
def test_registration_switched_off_in_zoom_is_retried_and_the_meeting_kept(
    fast, connection, strict, call, status, body
):
    _refused(strict, call, status, body)
    with pytest.raises(ProviderError) as caught:
        call[2](fast, connection)
    # Not MeetingNotFound: that would make the meeting again; it only needs its settings put back.
    assert not isinstance(caught.value, MeetingNotFound)
    assert not caught.value.permanent
    assert caught.value.code == "registration_off"
    assert "does not require registration" in caught.value.message


@pytest.mark.parametrize("call", EVERY_CALL, ids=CALL_IDS)
def test_a_basic_host_is_refused_with_the_reason_and_remembered(fast, trainer, strict, call):
    # The licence type unknown: Zoom's answer decides.
    connection = make_connection(
        trainer, extra={"account_id": ZOOM_ACCOUNT_ID}, scopes=" ".join([GRANULAR, *REGISTRANT_SCOPES])
    )
    assert fast.registrants_unavailable(connection) == ""
    _refused(strict, call, 400, {"code": 200, "message": f"Only available for Paid user: {ZOOM_USER_ID}."})
    with pytest.raises(ProviderError) as caught:
        call[2](fast, connection)
    assert caught.value.permanent
    assert "licensed" in caught.value.message
    # From now on the host is known to be unlicensed: no more meetings ask for registration.
    stored = ProviderConnection.objects.get(pk=connection.pk)
    assert stored.extra == {"account_id": ZOOM_ACCOUNT_ID, "type": 1}
    assert fast.registrants_unavailable(stored) == caught.value.message
    assert_no_daily_budget_spent()


@pytest.mark.parametrize(
    ("call", "status", "body"),
    [
        (REGISTER_ONE, 400, {"code": 3043, "message": "Meeting has reached maximum attendee capacity."}),
        (REGISTER_BATCH, 404, {"code": 3043, "message": "Meeting has reached maximum attendee capacity."}),
    ],
    ids=["add", "batch"],
)
def test_too_many_registrants_is_permanent_and_says_so(fast, connection, strict, call, status, body):
    _refused(strict, call, status, body)
    with pytest.raises(ProviderError) as caught:
        call[2](fast, connection)
    assert caught.value.permanent and not isinstance(caught.value, MeetingNotFound)
    assert "maximum number of registrants" in caught.value.message


def test_a_meeting_that_has_ended_takes_no_registrants(fast, connection, strict):
    body = {"code": 3038, "message": "Meeting is over, you can not register now."}
    _refused(strict, REGISTER_BATCH, 400, body)
    with pytest.raises(ProviderError) as caught:
        REGISTER_BATCH[2](fast, connection)
    assert caught.value.permanent
    assert "over" in caught.value.message


@pytest.mark.parametrize("call", EVERY_CALL, ids=CALL_IDS)
@pytest.mark.parametrize("status", [400, 401])
def test_a_missing_scope_asks_to_reconnect_naming_it(fast, connection, strict, call, status):
    scopes = "meeting:write:batch_registrants,meeting:write:batch_registrants:admin"
    _refused(
        strict, call, status, {"code": 4711, "message": f"Invalid access token, does not contain scopes:[{scopes}]."}
    )
    with pytest.raises(ProviderError) as caught:
        call[2](fast, connection)
    assert caught.value.permanent
    assert "Reconnect to enable personal join links" in caught.value.message
    assert "meeting:write:batch_registrants" in caught.value.message
    assert "access-1" not in caught.value.message


@pytest.mark.parametrize("call", EVERY_CALL, ids=CALL_IDS)
def test_a_per_second_429_waits_as_for_meetings(fast, connection, strict, call):
    with time_machine.travel(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), tick=True):
        connection.expires_at = timezone.now() + timedelta(minutes=55)
        reset = int(timezone.now().timestamp()) + 2
        method, url, make_call = call
        strict.add(
            method,
            url,
            status=429,
            json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
            headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Type": "QPS"},
        )
        with pytest.raises(RateLimited) as caught:
            make_call(fast, connection)
    assert not caught.value.daily
    assert caught.value.retry_at == datetime.fromtimestamp(reset, tz=UTC)


def test_a_daily_429_of_a_registrant_call_leaves_the_meetings_budget_open(fast, connection, strict):
    with time_machine.travel(datetime(2026, 11, 28, 23, 50, tzinfo=UTC), tick=True):
        connection.expires_at = timezone.now() + timedelta(minutes=55)
        _refused(strict, REGISTER_BATCH, 429, {"code": 429, "message": DAILY_REGISTRANT_MESSAGE})
        with pytest.raises(RateLimited) as caught:
            REGISTER_BATCH[2](fast, connection)
        assert caught.value.daily
        assert caught.value.retry_at == datetime(2026, 11, 29, tzinfo=UTC)
        # Zoom's limit was the registrant's, not the host's 100 creates and updates: meetings go on.
        assert limits.daily_quota_resumes_at(ZOOM_USER_ID) is None
        assert_no_daily_budget_spent()
        strict.post(CREATE_URL, status=201, json=meeting_json())
        fast.create_meeting(connection=connection, spec=spec())
        assert limits.daily_quota_used(ZOOM_USER_ID) == 1


@pytest.mark.parametrize(("call", "ambiguous"), [(REGISTER_ONE, True), (REGISTER_BATCH, True), (LIST, False)])
def test_a_server_error_is_retried_and_a_register_may_have_been_applied(fast, connection, strict, call, ambiguous):
    method, url, make_call = call
    strict.add(method, url, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(ProviderError) as caught:
        make_call(fast, connection)
    assert not caught.value.permanent
    assert caught.value.ambiguous is ambiguous


# --- who can have personal links ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "available"),
    [
        ({"type": 2}, True),  # Licensed
        ({"type": 3}, True),  # On-prem
        ({}, True),  # unknown: let Zoom's answer decide
        ({"type": None}, True),
        ({"type": 1}, False),  # Basic
        ({"type": 99}, False),  # no licence
    ],
)
def test_registrants_need_a_licensed_host(provider, trainer, extra, available):
    connection = make_connection(trainer, extra=extra, scopes=" ".join([GRANULAR, *REGISTRANT_SCOPES]))
    reason = provider.registrants_unavailable(connection)
    assert (reason == "") is available
    if not available:
        assert "licensed" in reason


def test_registrants_need_a_connection(provider):
    assert provider.supports_registrants
    assert "connected Zoom account" in provider.registrants_unavailable(None)


@pytest.mark.parametrize(
    ("granted", "lacking"),
    [
        (GRANULAR, REGISTRANT_SCOPES),  # a grant made before personal links
        (" ".join([GRANULAR, *REGISTRANT_SCOPES[:3]]), ["meeting:update:registrant_status"]),
        (" ".join([GRANULAR, *(f"{scope}:admin" for scope in REGISTRANT_SCOPES)]), []),
        (CLASSIC, []),  # classic meeting:write and meeting:read cover registrants
    ],
)
def test_a_grant_without_the_registrant_scopes_is_asked_to_reconnect_naming_them(provider, trainer, granted, lacking):
    connection = make_connection(trainer, scopes=granted)
    reason = provider.registrants_unavailable(connection)
    assert provider.missing_capability_scopes(connection).get("registrants", []) == lacking
    if not lacking:
        assert reason == ""
        return
    assert reason.startswith("Reconnect to enable personal join links")
    assert all(scope in reason for scope in lacking)
    assert ("scopes" in reason) is (len(lacking) > 1)


def test_a_basic_host_is_told_about_the_licence_before_the_scopes(provider, trainer):
    connection = make_connection(trainer, extra={"type": 1}, scopes=GRANULAR)
    assert "licensed" in provider.registrants_unavailable(connection)
