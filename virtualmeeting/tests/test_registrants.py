"""Registrants (personal join links): the services, the spec, and the registrants sync through the test provider."""

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.validators import validate_email
from django.db import connection as db_connection
from django.utils import timezone

from virtualmeeting.conf import registrant_email_domain
from virtualmeeting.models import MeetingRegistrant, ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import MeetingSpec, RegistrantSpec, RemoteRegistrant
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.registrants import claim, registrants_sync
from virtualmeeting.registry import get_provider
from virtualmeeting.selectors import registrant_join_url, registrants_due, registrants_status
from virtualmeeting.services import (
    RegistrantPerson,
    meeting_mark_remote_gone,
    meeting_remove,
    registrant_put,
    registrant_remove,
    registrants_set,
)
from virtualmeeting.sync import meeting_sweep
from virtualmeeting.tests.conftest import connect, make_user
from virtualmeeting.tests.helpers import fresh, put, run

RStatus = MeetingRegistrant.Status


def people(*numbers):
    return [RegistrantPerson(key=f"booking:{n}", first_name=f"Learner{n}", last_name="Smith") for n in numbers]


def rows(meeting):
    return {row.key: row for row in MeetingRegistrant.objects.filter(meeting=meeting)}


# --- the services ------------------------------------------------------------------------------------------
def test_a_registrant_is_given_an_address_of_its_own_never_the_persons(owner):
    meeting = put(owner)
    lea = make_user("lea", first_name="Lea", last_name="Learner")

    first = registrant_put(reference="ref:1", key="booking:1", user=lea, first_name="Lea", last_name="Learner")
    second = registrant_put(reference="ref:1", key="booking:2", first_name="Leo", last_name="")

    assert re.fullmatch(rf"vm-r{first.pk}-[0-9a-f]{{8}}@registrants\.invalid", first.email)
    assert first.email != second.email
    assert lea.email not in (first.email, second.email)
    validate_email(first.email)
    assert (first.status, first.present, first.user) == (RStatus.PENDING, True, lea)
    assert first.meeting == meeting


@pytest.mark.parametrize(
    ("site_url", "configured", "domain"),
    [
        ("https://lms.example.org:8443/", "", "lms.example.org"),
        ("http://localhost:8000", "", "registrants.invalid"),
        ("http://testserver", "", "registrants.invalid"),
        ("http://127.0.0.1:8000", "", "registrants.invalid"),
        ("https://lms.example.org", "links.example.org", "links.example.org"),
    ],
)
def test_the_address_domain_is_the_sites_host_or_a_reserved_one(settings, site_url, configured, domain):
    settings.SITE_URL = site_url
    if configured:
        settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "REGISTRANT_EMAIL_DOMAIN": configured}

    assert registrant_email_domain() == domain
    validate_email(f"vm-r1-0a1b2c3d@{domain}")


def test_registrants_set_makes_the_meetings_registrants_exactly_those_given(owner):
    meeting = put(owner)
    assert registrants_set(reference="ref:1", people=people(1, 2, 3)) == 3

    assert registrants_set(reference="ref:1", people=people(2, 3, 4)) == 2

    found = rows(meeting)
    assert sorted(found) == ["booking:1", "booking:2", "booking:3", "booking:4"]
    # Never sent to the provider: cancelled at once, with no call to make.
    assert (found["booking:1"].present, found["booking:1"].status) == (False, RStatus.CANCELLED)
    assert found["booking:1"].cancelled_at is not None
    assert {found[k].status for k in ("booking:2", "booking:3", "booking:4")} == {RStatus.PENDING}
    assert len({row.email for row in found.values()}) == 4
    # The same set again changes nothing.
    assert registrants_set(reference="ref:1", people=people(2, 3, 4)) == 0


def test_registrants_set_writes_in_bulk(owner, django_assert_max_num_queries):
    put(owner)
    # Rows are written in batches (SQLite takes about 50 rows a statement, PostgreSQL all), never one by one.
    with django_assert_max_num_queries(20):
        registrants_set(reference="ref:1", people=people(*range(200)))
    with django_assert_max_num_queries(20):
        registrants_set(reference="ref:1", people=people(*range(100, 300)))
    assert MeetingRegistrant.objects.filter(present=True).count() == 200


def test_removing_a_registered_person_cancels_at_the_provider_and_putting_back_keeps_the_link(owner):
    meeting = put(owner)
    row = registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="L")
    MeetingRegistrant.objects.filter(pk=row.pk).update(
        remote_id="reg-1", join_url="https://meet.test.invalid/w/1", status=RStatus.REGISTERED
    )

    row = registrant_remove(reference="ref:1", key="booking:1")
    assert (row.present, row.status) == (False, RStatus.CANCELLING)

    row = registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="L")
    assert (row.present, row.status, row.remote_id) == (True, RStatus.REGISTERED, "reg-1")
    assert registrant_remove(reference="ref:1", key="booking:404") is None
    assert registrant_remove(reference="ref:404", key="booking:1") is None
    assert meeting.registrants.count() == 1


def test_a_person_registered_again_after_a_cancel_gets_a_new_address(owner):
    put(owner)
    row = registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="L")
    registrant_remove(reference="ref:1", key="booking:1")

    again = registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="L")

    assert again.status == RStatus.PENDING
    assert again.email != row.email
    assert again.email.startswith(f"vm-r{row.pk}-")


def test_a_failed_registrant_is_tried_again_when_the_set_is_given_again(owner):
    meeting = put(owner)
    registrants_set(reference="ref:1", people=people(1))
    MeetingRegistrant.objects.update(status=RStatus.FAILED, last_error="Refused.", attempts=12)

    assert registrants_set(reference="ref:1", people=people(1)) == 1

    row = rows(meeting)["booking:1"]
    assert (row.status, row.last_error, row.attempts) == (RStatus.PENDING, "", 0)


def test_registrant_services_need_the_meeting_and_a_name(owner):
    with pytest.raises(ValueError, match="no virtual meeting"):
        registrant_put(reference="ref:none", key="booking:1", first_name="Lea", last_name="L")
    put(owner)
    with pytest.raises(ValueError, match="first name"):
        registrant_put(reference="ref:1", key="booking:1", first_name="  ", last_name="L")
    with pytest.raises(ValueError, match="first name"):
        registrants_set(reference="ref:1", people=[RegistrantPerson(key="booking:1", first_name="")])
    assert MeetingRegistrant.objects.count() == 0


def test_long_names_are_shortened_to_what_providers_take(owner):
    put(owner)
    row = registrant_put(reference="ref:1", key="booking:1", first_name="A" * 100, last_name="B" * 100)
    assert len(row.first_name) == len(row.last_name) == 64
    assert row.first_name.endswith("…")


# --- personal links in the meeting's spec ----------------------------------------------------------------------
def test_asking_for_personal_links_is_a_change_of_the_meeting(owner):
    meeting = put(owner)
    assert meeting.personal_links is False

    meeting = put(owner, personal_links=True)

    assert meeting.personal_links is True
    assert meeting.desired_version == 2
    assert put(owner, personal_links=True).desired_version == 2


def test_registration_goes_through_the_stored_spec(owner):
    meeting = put(owner)
    spec = MeetingSpec.of(meeting, registration=True)
    stored = spec.to_json()

    assert MeetingSpec.from_json(stored, marker=meeting.marker) == spec
    assert MeetingSpec.of(meeting).changed_fields(MeetingSpec.from_json(stored, marker=meeting.marker)) == {
        "registration"
    }
    # A spec stored before registrants existed has no registration: read as False.
    old = {key: value for key, value in MeetingSpec.of(meeting).to_json().items() if key != "registration"}
    assert MeetingSpec.from_json(old, marker=meeting.marker).registration is False
    assert not MeetingSpec.of(meeting).changed_fields(MeetingSpec.from_json(old, marker=meeting.marker))
    assert VirtualMeeting.objects.get(pk=meeting.pk).registration is False


# --- the registrants sync -----------------------------------------------------------------------------------
def ready(owner, reference="ref:1"):
    """A meeting that asks for personal links, created at the provider (it requires registration)."""
    meeting = put(owner, reference, personal_links=True)
    run(meeting)  # (in a transactional test the put's own task has made it already)
    return fresh(meeting)


def sync(meeting):
    """One delivery of the registrants task for the meeting, run in this process."""
    return registrants_sync(meeting.pk)


def remote(meeting, status="approved"):
    return [r for r in TestProvider.registrants(fresh(meeting).remote_id) if r["status"] == status]


def calls():
    operations = ("create", "update", "delete", "register", "list_registrants", "cancel_registrants")
    return {op: TestProvider.calls(op) for op in operations if TestProvider.calls(op)}


def test_personal_links_make_the_meeting_require_registration_and_a_change_is_an_update(owner):
    meeting = ready(owner)
    assert meeting.registration is True
    assert TestProvider.meetings()[0]["registration"] is True

    put(owner, personal_links=False)
    assert run(meeting) == ["update"]

    assert TestProvider.last_update_fields() == ["registration"]
    assert TestProvider.meetings()[0]["registration"] is False
    assert fresh(meeting).registration is False


def test_registrants_are_registered_in_batches_of_the_providers_size(owner):
    meeting = ready(owner)
    assert meeting.takes_registrants
    registrants_set(reference="ref:1", people=people(*range(1, 8)))

    assert sync(meeting) == ["register 3", "register 3", "register 1"]

    assert calls() == {"create": 1, "register": 3}
    found = rows(meeting)
    assert {row.status for row in found.values()} == {RStatus.REGISTERED}
    held = {r["email"]: r for r in remote(meeting)}
    assert set(held) == {row.email for row in found.values()}
    for row in found.values():
        assert row.remote_id == held[row.email]["registrant_id"]
        assert row.join_url == held[row.email]["join_url"]
        assert (held[row.email]["first_name"], held[row.email]["last_name"]) == (row.first_name, "Smith")
        assert row.registered_at is not None and row.maybe_sent is False
    assert len({row.join_url for row in found.values()}) == 7
    assert registrant_join_url(reference="ref:1", key="booking:3") == found["booking:3"].join_url


def test_many_puts_before_the_worker_runs_are_done_by_one_run(owner):
    meeting = ready(owner)
    for n in range(1, 6):
        registrant_put(reference="ref:1", key=f"booking:{n}", first_name=f"L{n}", last_name="")

    assert sync(meeting) == ["register 3", "register 2"]
    assert sync(meeting) == ["skipped"]  # the other four deliveries find nothing to do
    assert calls() == {"create": 1, "register": 2}
    assert len(remote(meeting)) == 5


def test_claimed_rows_are_left_to_their_worker(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    assert claim(meeting.pk)

    assert sync(meeting) == ["skipped"]  # a second, concurrent delivery
    assert claim(meeting.pk) is None
    assert calls() == {"create": 1}
    # A row added meanwhile is free: the other worker may take it, and only it.
    registrant_put(reference="ref:1", key="booking:3", first_name="L3", last_name="")
    assert sync(meeting) == ["register 1"]
    assert [r["email"] for r in remote(meeting)] == [rows(meeting)["booking:3"].email]


def test_a_lost_answer_is_found_by_listing_not_sent_again(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    TestProvider.fail_next("register", "ambiguous")

    assert sync(meeting) == ["retry"]
    found = rows(meeting)
    assert {(row.status, row.maybe_sent, row.remote_id) for row in found.values()} == {(RStatus.PENDING, True, "")}
    assert "lost" in found["booking:1"].last_error
    assert len(remote(meeting)) == 2  # applied at the provider

    with time_machine.travel(found["booking:1"].next_attempt_at + timedelta(seconds=1)):
        assert sync(meeting) == ["list (adopted 2)"]

    assert calls() == {"create": 1, "register": 1, "list_registrants": 1}
    found = rows(meeting)
    assert {(row.status, row.maybe_sent) for row in found.values()} == {(RStatus.REGISTERED, False)}
    assert {row.remote_id for row in found.values()} == {r["registrant_id"] for r in remote(meeting)}


def test_a_lost_register_that_never_happened_is_sent_once(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    MeetingRegistrant.objects.update(maybe_sent=True)

    assert sync(meeting) == ["list (adopted 0)", "register 1"]
    assert calls() == {"create": 1, "list_registrants": 1, "register": 1}
    assert len(remote(meeting)) == 1


def test_a_killed_workers_rows_are_adopted_after_its_lease(owner, django_capture_on_commit_callbacks):
    """The worker claimed the rows, sent the batch (applied remotely) and died before the answer."""
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    assert claim(meeting.pk)
    MeetingRegistrant.objects.update(maybe_sent=True)
    specs = [
        RegistrantSpec(key=str(r.pk), email=r.email, first_name=r.first_name, last_name="")
        for r in rows(meeting).values()
    ]
    get_provider("test").register(connection=owner.meeting_connections.get(), remote_id=meeting.remote_id, people=specs)

    with django_capture_on_commit_callbacks(execute=True):
        meeting_sweep()
    assert calls() == {"create": 1, "register": 1}  # the dead worker's lease still holds

    with time_machine.travel(timezone.now() + timedelta(minutes=3)), django_capture_on_commit_callbacks(execute=True):
        meeting_sweep()

    assert calls() == {"create": 1, "register": 1, "list_registrants": 1}
    assert {row.status for row in rows(meeting).values()} == {RStatus.REGISTERED}
    assert len(remote(meeting)) == 2


def test_redelivery_after_the_work_is_done_makes_no_call(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    sync(meeting)

    assert sync(meeting) == ["skipped"]
    assert registrants_set(reference="ref:1", people=people(1, 2)) == 0
    assert sync(meeting) == ["skipped"]
    assert calls() == {"create": 1, "register": 1}


def test_people_no_longer_wanted_are_cancelled_in_batches(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4, 5))
    sync(meeting)
    link = registrant_join_url(reference="ref:1", key="booking:1")
    assert link

    registrants_set(reference="ref:1", people=people(5))
    assert registrant_join_url(reference="ref:1", key="booking:1") == ""  # at once, before the cancel is made
    assert sync(meeting) == ["cancel 3", "cancel 1"]

    found = rows(meeting)
    assert {found[f"booking:{n}"].status for n in range(1, 5)} == {RStatus.CANCELLED}
    assert all(found[f"booking:{n}"].remote_id == found[f"booking:{n}"].join_url == "" for n in range(1, 5))
    assert [r["email"] for r in remote(meeting)] == [found["booking:5"].email]
    assert len(remote(meeting, "cancelled")) == 4
    assert calls() == {"create": 1, "register": 2, "cancel_registrants": 2}


def test_a_person_wanted_again_after_a_cancel_is_registered_again(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    sync(meeting)
    registrant_remove(reference="ref:1", key="booking:1")
    sync(meeting)

    registrant_put(reference="ref:1", key="booking:1", first_name="Learner1", last_name="Smith")
    assert sync(meeting) == ["register 1"]

    row = rows(meeting)["booking:1"]
    assert row.status == RStatus.REGISTERED
    assert [r["email"] for r in remote(meeting)] == [row.email]
    assert registrant_join_url(reference="ref:1", key="booking:1") == row.join_url


def test_a_person_removed_while_their_register_call_was_made_is_cancelled_next(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    TestProvider.fail_next("register", "ambiguous")
    sync(meeting)
    registrant_remove(reference="ref:1", key="booking:1")
    assert rows(meeting)["booking:1"].status == RStatus.CANCELLING  # it may exist: look before cancelling

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert sync(meeting) == ["list (adopted 1)", "cancel 1"]

    assert rows(meeting)["booking:1"].status == RStatus.CANCELLED
    assert remote(meeting) == []


def test_a_meeting_made_again_at_the_provider_registers_everyone_again(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    sync(meeting)
    old_links = {row.join_url for row in rows(meeting).values()}
    TestProvider.remote_delete(meeting.remote_id)

    # The provider says so (webhook, pre-start check or host click): the meeting is made again.
    meeting_mark_remote_gone(provider="test", remote_id=meeting.remote_id)
    assert {(row.status, row.remote_id, row.join_url) for row in rows(meeting).values()} == {(RStatus.PENDING, "", "")}
    assert registrant_join_url(reference="ref:1", key="booking:1") == ""
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create"]

    meeting = fresh(meeting)
    assert {row.status for row in rows(meeting).values()} == {RStatus.REGISTERED}
    assert {r["email"] for r in remote(meeting)} == {row.email for row in rows(meeting).values()}
    assert not old_links & {row.join_url for row in rows(meeting).values()}
    assert calls() == {"create": 2, "register": 2}


def test_a_meeting_found_gone_by_a_register_call_is_made_again(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    TestProvider.remote_delete(meeting.remote_id)
    registrants_set(reference="ref:1", people=people(1))

    assert sync(meeting) == ["meeting gone"]
    assert fresh(meeting).status == VirtualMeeting.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create"]

    assert rows(meeting)["booking:1"].status == RStatus.REGISTERED
    assert len(remote(meeting)) == 1


def test_a_meeting_removed_drops_its_registrants_without_calls(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2))
    sync(meeting)
    meeting_remove(reference="ref:1")
    registrants_set(reference="ref:1", people=people(1))
    assert sync(meeting) == ["waiting (meeting removed)"]  # the registrants go with the meeting

    assert run(meeting) == ["delete"]

    found = rows(meeting)
    assert (found["booking:2"].status, found["booking:2"].remote_id) == (RStatus.CANCELLED, "")
    assert (found["booking:1"].status, found["booking:1"].join_url) == (RStatus.PENDING, "")
    assert sync(meeting) == ["waiting (meeting removed)"]
    assert calls() == {"create": 1, "register": 1, "delete": 1}


def test_rows_wait_until_the_meeting_exists(owner, django_capture_on_commit_callbacks):
    meeting = put(owner, personal_links=True)
    registrants_set(reference="ref:1", people=people(1))

    assert sync(meeting) == ["waiting (meeting)"]
    assert rows(meeting)["booking:1"].status == RStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        run(meeting)  # created: the meeting's sync queues its registrants

    assert rows(meeting)["booking:1"].status == RStatus.REGISTERED
    assert calls() == {"create": 1, "register": 1}


def test_a_basic_host_gets_no_personal_links_and_the_owner_is_told_why(owner, django_capture_on_commit_callbacks):
    ProviderConnection.objects.filter(user=owner).update(extra={"licence": "basic"})
    meeting = ready(owner)
    assert meeting.registration is False
    registrants_set(reference="ref:1", people=people(1, 2))

    assert sync(meeting) == ["unsupported"]

    reason = "The host's Test Meeting account is Basic: personal links need a licensed host."
    assert registrants_status(["ref:1", "ref:none"]) == {
        "ref:1": {"booking:1": ("unsupported", reason), "booking:2": ("unsupported", reason)}
    }
    assert registrant_join_url(reference="ref:1", key="booking:1") == ""
    assert calls() == {"create": 1}

    # The host gets a licence; the next change of the meeting turns registration on and registers them.
    ProviderConnection.objects.filter(user=owner).update(extra={})
    put(owner, topic="Renamed", personal_links=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["update"]
    assert {row.status for row in rows(meeting).values()} == {RStatus.REGISTERED}


def test_a_host_found_basic_after_the_meeting_was_made_gets_registration_switched_off(
    owner, django_capture_on_commit_callbacks
):
    meeting = ready(owner)
    assert TestProvider.meetings()[0]["registration"] is True
    registrants_set(reference="ref:1", people=people(1, 2))
    ProviderConnection.objects.filter(user=owner).update(extra={"licence": "basic"})  # learnt since

    assert sync(meeting) == ["unsupported"]

    reason = "The host's Test Meeting account is Basic: personal links need a licensed host."
    assert {(row.status, row.last_error) for row in rows(meeting).values()} == {(RStatus.UNSUPPORTED, reason)}
    # The meeting still asks everyone on the shared link to register: it is changed, registration off.
    assert fresh(meeting).status == VirtualMeeting.Status.UPDATING
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["update"]
    assert TestProvider.last_update_fields() == ["registration"]
    assert TestProvider.meetings()[0]["registration"] is False
    assert fresh(meeting).registration is False
    assert calls() == {"create": 1, "update": 1}


def test_a_register_refused_for_the_hosts_licence_switches_registration_off(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4))
    TestProvider.fail_next("register", "unlicensed")  # the provider remembers the host is Basic, as Zoom's does

    assert sync(meeting) == ["unsupported"]

    reason = "The host's Test Meeting account is Basic: personal links need a licensed host."
    found = rows(meeting)
    assert {(row.status, row.last_error, row.maybe_sent) for row in found.values()} == {
        (RStatus.UNSUPPORTED, reason, False)
    }
    assert calls() == {"create": 1, "register": 1}  # the other batch is not sent
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["update"]
    assert TestProvider.meetings()[0]["registration"] is False
    assert registrant_join_url(reference="ref:1", key="booking:1") == ""


def test_registration_switched_off_at_the_provider_is_restored_then_everyone_registered(
    owner, django_capture_on_commit_callbacks
):
    meeting = ready(owner)
    TestProvider.remote_edit(meeting.remote_id, registration=False)  # switched off by hand, no webhook
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4))

    assert sync(meeting) == ["waiting (registration off)"]

    restoring = fresh(meeting)
    assert (restoring.status, restoring.synced_spec, restoring.registration) == (
        VirtualMeeting.Status.UPDATING,
        {},  # unknown remote state: the update sends everything
        False,
    )
    found = rows(meeting)
    # Not the people's failure: no attempt counted, nothing left to look for.
    assert {(row.status, row.attempts, row.maybe_sent) for row in found.values()} == {(RStatus.PENDING, 0, False)}
    assert found["booking:1"].last_error == "This Test Meeting meeting does not require registration."
    assert sync(meeting) == ["waiting (meeting)"]  # no call until the meeting is restored
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["update"]

    assert TestProvider.meetings()[0]["registration"] is True
    assert "registration" in TestProvider.last_update_fields() and "topic" in TestProvider.last_update_fields()
    assert {(row.status, row.last_error) for row in rows(meeting).values()} == {(RStatus.REGISTERED, "")}
    assert calls() == {"create": 1, "register": 3, "update": 1}


def test_a_provider_without_registrants_says_so(owner, monkeypatch):
    monkeypatch.setattr(TestProvider, "supports_registrants", False)
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))

    assert sync(meeting) == ["unsupported"]
    assert registrants_status(["ref:1"])["ref:1"]["booking:1"] == (
        "unsupported",
        "Test Meeting gives no personal join links: everyone uses the shared link.",
    )
    assert fresh(meeting).registration is False


def test_a_disabled_provider_holds_registrant_work(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    ProviderConfig.objects.filter(provider="test").update(enabled=False)
    registrants_set(reference="ref:1", people=people(1))

    assert sync(meeting) == ["held"]
    assert rows(meeting)["booking:1"].last_error.startswith("Held: Test Meeting is disabled on this site.")
    later = timezone.now() + timedelta(minutes=3)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        meeting_sweep()
    assert calls() == {"create": 1}

    ProviderConfig.objects.filter(provider="test").update(enabled=True)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        meeting_sweep()
    row = rows(meeting)["booking:1"]
    assert (row.status, row.last_error) == (RStatus.REGISTERED, "")


def test_transient_errors_back_off_then_succeed(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4))
    TestProvider.fail_next("register", "transient")

    assert sync(meeting) == ["retry"]

    found = rows(meeting)
    first = found["booking:1"]
    assert (first.status, first.attempts, first.maybe_sent) == (RStatus.PENDING, 1, False)
    assert first.last_error == "Test Meeting is temporarily unavailable."
    assert first.next_attempt_at > timezone.now()
    # The rest of the run waits as long, without counting an attempt.
    assert (found["booking:4"].attempts, found["booking:4"].next_attempt_at) == (0, first.next_attempt_at)
    assert sync(meeting) == ["skipped"]
    with time_machine.travel(first.next_attempt_at + timedelta(seconds=1)):
        assert sync(meeting) == ["register 3", "register 1"]
    assert {(row.status, row.attempts, row.last_error) for row in rows(meeting).values()} == {
        (RStatus.REGISTERED, 0, "")
    }


def test_registrants_fail_after_the_last_attempt_and_are_tried_again_when_set(owner, settings):
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "MAX_ATTEMPTS": 2}
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    TestProvider.fail_next("register", "transient", times=2)
    sync(meeting)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert sync(meeting) == ["retry"]

    row = rows(meeting)["booking:1"]
    assert row.status == RStatus.FAILED
    assert row.last_error == "Test Meeting kept failing (Test Meeting is temporarily unavailable)."

    registrants_set(reference="ref:1", people=people(1))
    assert sync(meeting) == ["register 1"]
    assert rows(meeting)["booking:1"].status == RStatus.REGISTERED


def test_a_rate_limit_waits_for_the_providers_time(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4))
    TestProvider.fail_next("register", "rate_limited", seconds=90)

    assert sync(meeting) == ["waiting"]

    found = rows(meeting)
    assert {row.next_attempt_at for row in found.values()} == {found["booking:1"].next_attempt_at}
    assert found["booking:1"].next_attempt_at > timezone.now() + timedelta(seconds=80)
    assert found["booking:1"].last_error.startswith("Waiting for Test Meeting's rate limit, resumes at")
    assert {row.attempts for row in found.values()} == {0}
    assert sync(meeting) == ["skipped"]
    with time_machine.travel(found["booking:1"].next_attempt_at + timedelta(seconds=1)):
        assert sync(meeting) == ["register 3", "register 1"]


def test_a_refused_batch_fails_and_the_others_go_on(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1, 2, 3, 4))
    TestProvider.fail_next("register", "permanent")

    assert sync(meeting) == ["register failed", "register 1"]

    found = rows(meeting)
    assert {found[f"booking:{n}"].status for n in (1, 2, 3)} == {RStatus.FAILED}
    assert found["booking:1"].last_error == "Test Meeting refused the meeting settings"
    assert found["booking:1"].maybe_sent is False
    assert found["booking:4"].status == RStatus.REGISTERED


def test_a_revoked_connection_waits_for_the_owner_to_reconnect(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    TestProvider.fail_next("register", "auth_revoked")

    assert sync(meeting) == ["retry"]
    assert ProviderConnection.objects.get(user=owner).status == ProviderConnection.Status.REVOKED
    row = rows(meeting)["booking:1"]
    assert row.status == RStatus.PENDING
    assert "must connect their Test Meeting account again" in row.last_error
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1)):
        assert sync(meeting) == ["retry"]  # no usable connection: no call
    assert calls() == {"create": 1, "register": 1}

    with django_capture_on_commit_callbacks(execute=True):
        connect(owner)
    assert rows(meeting)["booking:1"].status == RStatus.REGISTERED


def test_the_sweep_queues_registrant_work_whose_message_was_lost(owner, django_capture_on_commit_callbacks):
    meeting = ready(owner)
    TestProvider.fail_next("create", "rate_limited_daily")
    waiting = put(owner, "ref:2", personal_links=True)
    assert run(waiting) == ["waiting"]  # not created before midnight: its rows wait for it
    registrants_set(reference="ref:1", people=people(1))  # the task is never delivered
    registrants_set(reference="ref:2", people=people(1))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        meeting_sweep()
    assert not any("registrants" in repr(callback) for callback in queued)  # the task may still be on its way
    assert registrants_due() == []

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert registrants_due() == [meeting.pk]
        with django_capture_on_commit_callbacks(execute=True):
            meeting_sweep()

    assert rows(meeting)["booking:1"].status == RStatus.REGISTERED
    assert rows(waiting)["booking:1"].status == RStatus.PENDING


def test_a_join_link_is_kept_encrypted_and_never_shown_in_reprs(owner):
    meeting = ready(owner)
    registrants_set(reference="ref:1", people=people(1))
    sync(meeting)
    row = rows(meeting)["booking:1"]

    with db_connection.cursor() as cursor:
        cursor.execute("SELECT join_url FROM virtualmeeting_meetingregistrant WHERE id = %s", [row.pk])
        [stored] = cursor.fetchone()
    assert row.join_url.startswith("https://") and row.join_url not in stored
    remote_registrant = RemoteRegistrant(registrant_id=row.remote_id, email=row.email, join_url=row.join_url)
    assert row.join_url not in repr(remote_registrant)


# --- two workers at once (PostgreSQL: real row locks, one connection per thread) ------------------------------------
def at_once(*calls):
    """Run the calls at the same moment, one thread (and database connection) each; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def attempt(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            db_connection.close()

    threads = [threading.Thread(target=attempt, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def held(write):
    """Make the write while the provider is disabled: its task (run at commit here) makes no call."""
    ProviderConfig.objects.filter(provider="test").update(enabled=False)
    write()
    ProviderConfig.objects.filter(provider="test").update(enabled=True)
    assert calls() == {"create": 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_workers_never_send_the_same_registrant(owner, attempt):
    meeting = ready(owner)
    assert meeting.takes_registrants
    held(lambda: registrants_set(reference="ref:1", people=people(1, 2, 3, 4)))
    TestProvider.fail_next("register", "hang", seconds=1)  # the first call is slow: the deliveries overlap

    results = at_once(lambda: sync(meeting), lambda: sync(meeting))

    assert sorted(results) == [["register 3", "register 1"], ["skipped"]]
    assert calls() == {"create": 1, "register": 2}
    assert len(remote(meeting)) == 4
    assert {row.status for row in rows(meeting).values()} == {RStatus.REGISTERED}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_person_added_during_a_run_is_registered_once_by_either_worker(owner):
    meeting = ready(owner)
    held(lambda: registrants_set(reference="ref:1", people=people(1, 2, 3)))
    TestProvider.fail_next("register", "hang", seconds=2)

    def add():
        time.sleep(0.5)  # the first worker is in its call, holding the first three
        # Its task runs at commit (Celery is eager here): the second worker, which finds only this row free.
        return registrant_put(reference="ref:1", key="booking:4", first_name="L4", last_name="")

    results = at_once(lambda: sync(meeting), add)

    assert results[0] == ["register 3"]
    assert calls() == {"create": 1, "register": 2}
    assert sorted(r["email"] for r in remote(meeting)) == sorted(row.email for row in rows(meeting).values())
    assert {row.status for row in rows(meeting).values()} == {RStatus.REGISTERED}
