"""registrant_now: one person registered at their click, claimed and idempotent, never registered twice."""

import pytest

from virtualmeeting.errors import MeetingUnavailable
from virtualmeeting.models import MeetingRegistrant, ProviderConfig
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.registrants import claim, registrant_now, registrants_sync
from virtualmeeting.selectors import registrant_join_url
from virtualmeeting.services import registrant_put
from virtualmeeting.tests.conftest import make_user
from virtualmeeting.tests.helpers import put, run
from virtualmeeting.tests.test_registrants import at_once, calls, ready, remote

RStatus = MeetingRegistrant.Status


def click(key="user:7", user=None):
    return registrant_now(reference="ref:1", key=key, user=user, first_name="Tina", last_name="Trainer")


def test_one_person_is_registered_with_one_call_and_a_second_click_makes_none(owner):
    meeting = ready(owner)
    tina = make_user("tina")

    link = registrant_now(reference="ref:1", key="user:7", user=tina, first_name="Tina", last_name="Trainer")

    row = MeetingRegistrant.objects.get(meeting=meeting, key="user:7")
    assert (row.status, row.user_id, row.join_url, row.claim_token) == (RStatus.REGISTERED, tina.pk, link, "")
    assert [(r["email"], r["join_url"]) for r in remote(meeting)] == [(row.email, link)]
    assert registrant_join_url(reference="ref:1", key="user:7") == link
    assert click() == link
    assert calls() == {"create": 1, "register": 1}


def test_a_row_the_sync_is_registering_is_left_to_it(owner):
    meeting = ready(owner)
    registrant_put(reference="ref:1", key="user:7", first_name="Tina", last_name="")
    assert claim(meeting.pk)  # a worker holds the row, its call on the way

    with pytest.raises(MeetingUnavailable, match="being made"):
        click()
    assert calls() == {"create": 1}


def test_a_lost_answer_is_found_at_the_next_click_not_sent_again(owner):
    meeting = ready(owner)
    TestProvider.fail_next("register", "ambiguous")
    with pytest.raises(MeetingUnavailable, match="lost"):
        click()
    row = MeetingRegistrant.objects.get(key="user:7")
    assert (row.status, row.maybe_sent, row.remote_id, row.claim_token) == (RStatus.PENDING, True, "", "")
    assert len(remote(meeting)) == 1  # applied at the provider

    link = click()

    assert calls() == {"create": 1, "register": 1, "list_registrants": 1}
    assert [r["join_url"] for r in remote(meeting)] == [link]


def test_the_sync_finds_a_lost_click_answer_too(owner):
    meeting = ready(owner)
    TestProvider.fail_next("register", "ambiguous")
    with pytest.raises(MeetingUnavailable):
        click()
    MeetingRegistrant.objects.update(next_attempt_at=MeetingRegistrant.objects.get().created_at)  # due now

    assert registrants_sync(meeting.pk) == ["list (adopted 1)"]
    assert len(remote(meeting)) == 1
    assert MeetingRegistrant.objects.get().status == RStatus.REGISTERED


def test_a_meeting_that_requires_no_registration_gives_no_link_and_keeps_no_row(owner):
    meeting = put(owner)  # no personal links asked for
    run(meeting)
    with pytest.raises(MeetingUnavailable, match="no personal links"):
        click()
    assert not MeetingRegistrant.objects.exists()
    assert calls() == {"create": 1}


def test_a_disabled_provider_gives_no_link(owner):
    ready(owner)
    ProviderConfig.objects.filter(provider="test").update(enabled=False)
    with pytest.raises(MeetingUnavailable, match="disabled"):
        click()
    assert calls() == {"create": 1}


def test_a_rate_limit_leaves_the_row_to_the_sync_at_the_providers_time(owner):
    ready(owner)
    TestProvider.fail_next("register", "rate_limited", seconds=5)
    with pytest.raises(MeetingUnavailable, match="rate limit"):
        click()
    row = MeetingRegistrant.objects.get()
    assert (row.status, row.maybe_sent, row.claim_token) == (RStatus.PENDING, False, "")
    assert row.next_attempt_at > row.updated_at  # waits, then the sync registers them


def test_a_refusal_fails_the_row_with_the_reason(owner):
    ready(owner)
    TestProvider.fail_next("register", "permanent")
    with pytest.raises(MeetingUnavailable) as refused:
        click()
    assert (
        refused.value.message
        == "Test Meeting could not give you a personal link: Test Meeting refused the meeting settings."
    )
    assert MeetingRegistrant.objects.get().status == RStatus.FAILED


def test_a_basic_host_gives_no_link(owner):
    meeting = ready(owner)
    owner.meeting_connections.update(extra={"licence": "basic"})
    with pytest.raises(MeetingUnavailable, match="Basic"):
        click()
    assert MeetingRegistrant.objects.get(meeting=meeting).status == RStatus.UNSUPPORTED
    assert calls() == {"create": 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_register_the_person_once(owner):
    meeting = ready(owner)
    TestProvider.fail_next("register", "hang", seconds=1)  # the first call is slow: the clicks overlap

    def attempt():
        try:
            return click()
        except MeetingUnavailable as exc:
            return exc.message

    results = at_once(attempt, attempt)

    link = MeetingRegistrant.objects.get().join_url
    assert sorted(results) == sorted([link, "Your personal link is being made. Please try again in a moment."])
    assert calls() == {"create": 1, "register": 1}
    assert len(remote(meeting)) == 1
