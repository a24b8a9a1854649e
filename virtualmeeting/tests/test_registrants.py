"""Registrants (personal join links): the services, the spec, and the registrants sync through the test provider."""

import re

import pytest
from django.core.validators import validate_email

from virtualmeeting.conf import registrant_email_domain
from virtualmeeting.models import MeetingRegistrant, VirtualMeeting
from virtualmeeting.services import RegistrantPerson, registrant_put, registrant_remove, registrants_set
from virtualmeeting.sync import _same_spec, spec_from_json, spec_of, spec_to_json
from virtualmeeting.tests.conftest import make_user
from virtualmeeting.tests.helpers import put

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
    spec = spec_of(meeting, registration=True)
    stored = spec_to_json(spec)

    assert spec_from_json(stored, marker=meeting.marker) == spec
    assert not _same_spec(stored, spec_to_json(spec_of(meeting)))
    # A spec stored before registrants existed has no registration: read as False.
    old = {key: value for key, value in spec_to_json(spec_of(meeting)).items() if key != "registration"}
    assert spec_from_json(old, marker=meeting.marker).registration is False
    assert _same_spec(old, spec_to_json(spec_of(meeting)))
    assert VirtualMeeting.objects.get(pk=meeting.pk).registration is False
