"""Requests for a place decided in bulk, withdrawn, and listed: hostile ids, decisions, reasons, pages,
by every member of the cast (the learner's manager too), on requests of every approval type."""

from datetime import timedelta

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Booking, Profile, Seminar, SeminarEvent, Session
from seminars.tests.conftest import enrol, make_user
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, rolled_back, send
from tests.fuzz.strategies import hostile_int_text, hostile_pk, hostile_text, mutated

Type = Seminar.ApprovalType


@pytest.fixture
def requests(scene):
    """Pending requests on seminars of every approval type (the future event's dates), by the scene's
    learners and one more; `lena` has a manager (returned with the ids)."""
    manager = make_user("mary")
    extra = enrol(make_user("lia"), scene.course).user
    Profile.objects.create(user=scene.learner, manager=manager)
    ids = []
    for approval_type in Type.values:
        seminar = Seminar.objects.create(
            course=scene.course, name=f"Needs {approval_type}", approval_type=approval_type
        )
        event = SeminarEvent.objects.create(seminar=seminar, capacity=1, waitlist_enabled=approval_type == Type.ADMIN)
        # Later than the scene's events: no learner holds a seat at the same time.
        start = scene.session.start + timedelta(days=20)
        Session.objects.create(event=event, start=start, finish=start + timedelta(hours=1))
        for user in (scene.learner, scene.waitlisted, extra):
            ids.append(Booking.objects.create(event=event, user=user, state=Booking.State.REQUESTED).pk)
    return {"ids": ids, "manager": manager}


def _deciders(scene, requests):
    return {**scene.users(), "manager": requests["manager"]}


def _nothing_done(response) -> bool:
    """A decision on several requests is refused when none of them was decided (each refused one
    is an error message beside the successes)."""
    if response.status_code >= 400:
        return True
    levels = [m.level for m in get_messages(response.wsgi_request)]
    return message_levels.SUCCESS not in levels


@fuzzes("seminars:approvals_decide")
@fuzz_settings(40)
@given(data=st.data())
def test_approvals_decide(scene, requests, data):
    pks = st.one_of(
        st.sampled_from(requests["ids"] + scene.ids["booking"]).map(str), hostile_pk().map(str), hostile_text
    )
    baseline = {"booking": [str(requests["ids"][0])], "decision": "approve", "reason": "", "event": ""}
    fields = {
        "booking": st.lists(pks, max_size=5),
        "decision": st.one_of(st.sampled_from(["approve", "decline"]), hostile_text),
        "reason": hostile_text,
        "event": st.one_of(st.sampled_from(scene.ids["event"]).map(str), hostile_int_text, hostile_text),
    }
    form = data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))
    deciders = _deciders(scene, requests)
    who = data.draw(st.sampled_from(sorted(deciders)))
    with rolled_back():
        client = client_for(deciders[who])
        response = check(
            lambda: send(client, "POST", reverse("seminars:approvals_decide"), form),
            refused=_nothing_done,
            untouchable=scene.other_course_rows(),
        )
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@fuzzes("seminars:booking_withdraw")
@fuzz_settings(25)
@given(data=st.data())
def test_booking_withdraw(scene, requests, data):
    booking = data.draw(st.one_of(st.sampled_from(requests["ids"] + scene.ids["booking"]), hostile_pk()))
    deciders = _deciders(scene, requests)
    who = data.draw(st.sampled_from(sorted(deciders)))
    with rolled_back():
        client = client_for(deciders[who])
        mine = Booking.objects.filter(pk=booking, user=deciders[who], state=Booking.State.REQUESTED).exists()
        check(
            lambda: send(client, "POST", reverse("seminars:booking_withdraw", args=[booking])),
            # Only the learner's own pending request is withdrawn; anything else writes nothing.
            may_write=lambda response: mine,
            untouchable=scene.other_course_rows(),
        )


@fuzzes("seminars:approvals")
@fuzz_settings(20)
@given(data=st.data())
def test_approvals_list(scene, requests, data):
    query = data.draw(
        st.dictionaries(st.one_of(st.just("page"), hostile_text), st.one_of(hostile_int_text, hostile_text), max_size=2)
    )
    deciders = _deciders(scene, requests)
    who = data.draw(st.sampled_from(sorted(deciders)))
    with rolled_back():
        client = client_for(deciders[who])
        check(lambda: send(client, "GET", reverse("seminars:approvals"), query), may_write=lambda response: False)


def test_the_baseline_decides(scene, requests):
    """The fuzzed form, as sent by the page, approves a trainer-approved request (so the fuzz reaches the service)."""
    trainer_request = Booking.objects.get(pk=requests["ids"][3])
    assert trainer_request.event.seminar.approval_type == Type.TRAINER
    response = send(
        client_for(scene.trainer),
        "POST",
        reverse("seminars:approvals_decide"),
        {"booking": [str(trainer_request.pk)], "decision": "approve"},
    )
    assert response.status_code == 302
    trainer_request.refresh_from_db()
    assert trainer_request.state == Booking.State.BOOKED


def test_the_baseline_withdraws(scene, requests):
    request = Booking.objects.get(pk=requests["ids"][0], user=scene.learner)
    response = send(client_for(scene.learner), "POST", reverse("seminars:booking_withdraw", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == Booking.State.USER_CANCELLED
