"""Who is registered for a session's meeting (personal join links): every seat, and nobody else.

Bookings go through the real services and pages; the registrant rows are the
framework's (virtualmeeting.MeetingRegistrant), read here by their `present`
flag: what the product wants registered at the provider.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from seminars.meetings import booking_key, meeting_reference, staff_key
from seminars.models import Booking
from seminars.services.bookings import (
    booking_cancel,
    booking_create,
    booking_set_attendance,
)
from seminars.tests.conftest import enrol, make_user
from seminars.tests.test_virtual_meetings import NEW_ZOOM_ROOM, TEST_PROVIDER, connect, local, room_choice, row, save
from virtualmeeting.models import MeetingRegistrant, ProviderConfig, VirtualMeeting
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.services import registrant_put


@pytest.fixture(autouse=True)
def test_provider(settings, db):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER]}
    TestProvider.reset()
    ProviderConfig.objects.update_or_create(provider="test", defaults={"enabled": True})
    yield TestProvider
    TestProvider.reset()


@pytest.fixture
def virtual_event(client, event, editing_trainer, django_capture_on_commit_callbacks):
    """The event (2 seats, then a waitlist) with two sessions in one provider-backed ad-hoc room, saved through the editor."""
    connect(editing_trainer)
    client.force_login(editing_trainer)
    first = event.sessions.get()
    second_start = first.start + timedelta(days=1)
    rows = [
        row(first, room=NEW_ZOOM_ROOM),
        {
            "start": local(second_start, "UTC"),
            "finish": local(second_start + timedelta(minutes=90), "UTC"),
            "zone": "UTC",
            "room": NEW_ZOOM_ROOM,
        },
    ]
    save(client, event, rows, django_capture_on_commit_callbacks, capacity=2, waitlist_enabled="on")
    event.refresh_from_db()
    return event


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its after-commit work (emails, syncs) runs at the end."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def learners(course, *names):
    users = []
    for name in names:
        user = make_user(name)
        enrol(user, course)
        users.append(user)
    return users


def registered(event) -> dict[str, set[str]]:
    """For each of the event's meetings wanted now (by session start): the keys wanted registered."""
    found = {}
    for meeting in VirtualMeeting.objects.filter(reference__startswith=f"seminars.event:{event.pk}:", present=True):
        found[meeting.reference] = set(
            MeetingRegistrant.objects.filter(meeting=meeting, present=True).values_list("key", flat=True)
        )
    return found


def keys(*bookings):
    return {booking_key(b.pk) for b in bookings}


def assert_everywhere(event, expected: set[str]):
    """Every meeting of the event (two sessions: two meetings) wants exactly these registrants."""
    found = registered(event)
    assert len(found) == 2
    assert all(wanted == expected for wanted in found.values()), found


def test_a_booked_learner_is_registered_for_every_session_with_their_names(virtual_event, learner, committed):
    learner.last_name = "Larsen"
    learner.save()
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    assert_everywhere(virtual_event, keys(booking))
    rows = MeetingRegistrant.objects.filter(key=booking_key(booking.pk))
    assert {(r.first_name, r.last_name, r.user_id) for r in rows} == {("Lena", "Larsen", learner.pk)}
    # Meetings ask for personal links.
    assert set(VirtualMeeting.objects.values_list("personal_links", flat=True)) == {True}


def test_a_learner_without_a_first_name_is_registered_by_username(virtual_event, course, committed):
    (nameless,) = learners(course, "nora")
    nameless.first_name = ""
    nameless.save()
    committed(booking_create, event=virtual_event, user=nameless, actor=nameless)
    assert set(MeetingRegistrant.objects.values_list("first_name", "last_name")) == {("nora", "")}


def test_waitlisted_learners_are_not_registered_and_a_promoted_one_is(virtual_event, course, committed):
    ann, bob, cat = learners(course, "ann", "bob", "cat")
    first = committed(booking_create, event=virtual_event, user=ann, actor=ann)
    second = committed(booking_create, event=virtual_event, user=bob, actor=bob)
    waiting = committed(booking_create, event=virtual_event, user=cat, actor=cat)
    assert waiting.state == Booking.State.WAITLISTED
    assert_everywhere(virtual_event, keys(first, second))
    assert not MeetingRegistrant.objects.filter(key=booking_key(waiting.pk)).exists()

    committed(booking_cancel, booking=first, actor=ann)  # frees a seat: cat is promoted
    waiting.refresh_from_db()
    assert waiting.state == Booking.State.BOOKED
    assert_everywhere(virtual_event, keys(second, waiting))
    cancelled = MeetingRegistrant.objects.filter(key=booking_key(first.pk))
    assert [r.present for r in cancelled] == [False, False]


def test_a_learner_leaving_the_waitlist_was_never_registered(virtual_event, course, committed):
    ann, bob, cat = learners(course, "ann", "bob", "cat")
    for user in (ann, bob):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    waiting = committed(booking_create, event=virtual_event, user=cat, actor=cat)
    committed(booking_cancel, booking=waiting, actor=cat)
    assert not MeetingRegistrant.objects.filter(key=booking_key(waiting.pk)).exists()


def test_a_learner_who_books_again_after_cancelling_is_registered_again(virtual_event, learner, committed):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    committed(booking_cancel, booking=booking, actor=learner)
    assert_everywhere(virtual_event, set())
    again = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    assert again.pk == booking.pk
    assert_everywhere(virtual_event, keys(again))
    assert MeetingRegistrant.objects.count() == 2  # the same rows, wanted again: no second registrant


def test_promoting_several_waitlisted_learners_registers_them_all(
    client, virtual_event, course, editing_trainer, committed, django_capture_on_commit_callbacks
):
    people = learners(course, "ann", "bob", "cat", "dan", "eve")
    bookings = [committed(booking_create, event=virtual_event, user=u, actor=u) for u in people]
    assert [b.state for b in bookings].count(Booking.State.WAITLISTED) == 3
    # The editor raises the capacity: the waitlist is promoted in the same save.
    first, second = virtual_event.sessions.order_by("start")
    rows = [row(first, room=room_choice(first.room)), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, capacity=10, waitlist_enabled="on")
    assert_everywhere(virtual_event, keys(*bookings))


def test_attendance_keeps_the_seat_and_the_registration(
    virtual_event, learner, editing_trainer, committed, time_machine
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    time_machine.move_to(virtual_event.sessions.order_by("start").first().start + timedelta(minutes=5))
    committed(booking_set_attendance, booking=booking, state=Booking.State.NO_SHOW, actor=editing_trainer)
    assert_everywhere(virtual_event, keys(booking))


def test_cancelling_the_event_cancels_every_registration(client, virtual_event, course, editing_trainer, committed):
    ann, bob = learners(course, "ann", "bob")
    for user in (ann, bob):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    client.force_login(editing_trainer)
    with_callbacks = committed(lambda: client.post(reverse("seminars:event_cancel", args=[virtual_event.pk])))
    assert with_callbacks.status_code == 302
    assert MeetingRegistrant.objects.count() == 4
    assert not MeetingRegistrant.objects.filter(present=True).exists()


def test_a_session_moved_to_another_room_registers_its_learners_there_and_cancels_the_old_links(
    client, virtual_event, learner, committed, django_capture_on_commit_callbacks
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    first, second = virtual_event.sessions.order_by("start")
    old = meeting_reference(first, first.room)
    rows = [row(first, room=NEW_ZOOM_ROOM), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    new = meeting_reference(first, first.room)
    assert new != old
    assert not MeetingRegistrant.objects.get(meeting__reference=old, key=booking_key(booking.pk)).present
    assert MeetingRegistrant.objects.get(meeting__reference=new, key=booking_key(booking.pk)).present
    assert_everywhere(virtual_event, keys(booking))


def test_a_session_leaving_the_provider_room_cancels_its_links(
    client, virtual_event, learner, committed, django_capture_on_commit_callbacks
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    first, second = virtual_event.sessions.order_by("start")
    old = meeting_reference(first, first.room)
    save(
        client,
        virtual_event,
        [row(first), row(second, room=room_choice(second.room))],
        django_capture_on_commit_callbacks,
    )
    assert not MeetingRegistrant.objects.get(meeting__reference=old).present
    assert registered(virtual_event) == {meeting_reference(second, second.room): keys(booking)}


def test_staff_registered_on_demand_stay_registered_when_the_seats_change(virtual_event, learner, trainer, committed):
    first = virtual_event.sessions.order_by("start").first()
    reference = meeting_reference(first, first.room)
    registrant_put(reference=reference, key=staff_key(trainer.pk), user=trainer, first_name="Tom", last_name="")
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    committed(booking_cancel, booking=booking, actor=learner)
    assert registered(virtual_event)[reference] == {staff_key(trainer.pk)}


def test_an_event_without_virtual_meetings_books_as_before(event, learner, committed):
    booking = committed(booking_create, event=event, user=learner, actor=learner)
    assert booking.state == Booking.State.BOOKED
    assert not MeetingRegistrant.objects.exists()


def test_bookings_on_other_events_are_not_registered(virtual_event, seminar, editing_trainer, learner, committed):
    from seminars.models import SeminarEvent
    from seminars.tests.conftest import make_session

    other = SeminarEvent.objects.create(seminar=seminar, name="Other", capacity=5, created_by=editing_trainer)
    make_session(other, (timezone.now() + timedelta(days=3)).replace(tzinfo=None))
    committed(booking_create, event=other, user=learner, actor=learner)
    assert_everywhere(virtual_event, set())
