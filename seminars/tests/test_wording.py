"""What people read: a learner confirms before cancelling (GET asks, only POST cancels), counts are
worded through ngettext (never "(s)"), and "Booked learners have been told" only when someone was."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from seminars.models import Booking, Room, SeminarEvent
from seminars.services.bookings import booking_create

State = Booking.State


def cancel_url(booking):
    return reverse("seminars:booking_cancel", args=[booking.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Cancel your booking? --------------------------------------------------------------------------


def test_the_event_page_links_to_the_question_not_a_post(client, event, learner):
    booking = booking_create(event=event, user=learner, actor=learner)
    client.force_login(learner)
    html = client.get(event.get_absolute_url()).content.decode()
    assert f'<a class="btn btn-danger" href="{cancel_url(booking)}">Cancel booking</a>' in html
    assert f'action="{cancel_url(booking)}"' not in html


def test_get_asks_with_the_policy_and_never_cancels(client, event, learner, learner2):
    event.capacity = 1
    event.waitlist_enabled = True
    event.cancellation_policy = SeminarEvent.CancellationPolicy.CUTOFF
    event.cancellation_cutoff_hours = 48
    event.save()
    booking = booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=learner2)  # waitlisted
    client.force_login(learner)

    html = client.get(cancel_url(booking)).content.decode()
    assert "Cancel your booking?" in html
    assert "You give up your seat." in html
    assert "It goes at once to the first learner on the waitlist (1 learner waiting)." in html
    assert "This event allows cancelling until 48 hours before it starts" in html
    assert "Keep my booking" in html
    assert 'method="post"' in html
    booking.refresh_from_db()
    assert booking.state == State.BOOKED

    response = client.post(cancel_url(booking), follow=True)
    assert "Your booking has been cancelled." in messages_of(response)
    booking.refresh_from_db()
    assert booking.state == State.USER_CANCELLED


def test_leaving_the_waitlist_is_asked_too(client, event, learner, learner2):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    booking_create(event=event, user=learner, actor=learner)
    waiting = booking_create(event=event, user=learner2, actor=learner2)
    client.force_login(learner2)
    html = client.get(cancel_url(waiting)).content.decode()
    assert "Leave the waitlist?" in html and "Stay on the waitlist" in html
    assert "You lose your place on the waitlist." in html
    waiting.refresh_from_db()
    assert waiting.state == State.WAITLISTED


def test_a_refused_cancellation_says_why_and_offers_no_button(client, event, learner):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.NEVER
    event.save()
    booking = booking_create(event=event, user=learner, actor=learner)
    client.force_login(learner)
    html = client.get(cancel_url(booking)).content.decode()
    assert "Cancellations are not allowed for this event." in html
    assert 'method="post"' not in html.split('id="cancel-title"')[1]


def test_a_cut_off_of_one_hour_reads_in_the_singular(client, event, learner, time_machine):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.CUTOFF
    event.cancellation_cutoff_hours = 1
    event.save()
    booking = booking_create(event=event, user=learner, actor=learner)
    client.force_login(learner)
    assert "Until 1 hour before the event starts" in client.get(event.get_absolute_url()).content.decode()
    assert "until 1 hour before it starts" in client.get(cancel_url(booking)).content.decode()
    time_machine.move_to(event.sessions.get().start - timedelta(minutes=30))
    response = client.post(cancel_url(booking), follow=True)
    assert "Cancellations closed 1 hour before the event starts; please contact a trainer." in messages_of(response)


# --- Cancelling an event ---------------------------------------------------------------------------


def test_cancelling_an_event_nobody_signed_up_for_tells_nobody(client, event, editing_trainer):
    client.force_login(editing_trainer)
    response = client.post(reverse("seminars:event_cancel", args=[event.pk]), follow=True)
    [message] = messages_of(response)
    assert message == "Cancelled Spring intake. Nobody had signed up, so nobody needed to be told."
    assert "have been told" not in message


@pytest.mark.parametrize(
    "signups, told", [(1, "The 1 learner who had signed up has been told."), (2, "The 2 learners")]
)
def test_cancelling_an_event_counts_who_was_told(client, event, editing_trainer, learner, learner2, signups, told):
    for user in [learner, learner2][:signups]:
        booking_create(event=event, user=user, actor=user)
    client.force_login(editing_trainer)
    response = client.post(reverse("seminars:event_cancel", args=[event.pk]), follow=True)
    [message] = messages_of(response)
    assert message.startswith("Cancelled Spring intake. ") and told in message


# --- Counts ----------------------------------------------------------------------------------------


def test_attendance_counts_its_changes(client, event, editing_trainer, learner, time_machine):
    booking = booking_create(event=event, user=learner, actor=learner)
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=10))
    client.force_login(editing_trainer)
    response = client.post(
        reverse("seminars:attendance", args=[event.pk]), {f"booking_{booking.pk}": State.FULLY_ATTENDED}, follow=True
    )
    assert "Attendance saved (1 change)." in messages_of(response)


def test_a_site_room_in_use_names_its_sessions_count(site_admin, event):
    from django.core.exceptions import ValidationError

    from seminars.services.rooms import site_room_delete

    room = Room.objects.create(name="Hall", capacity=10)
    session = event.sessions.get()
    session.room = room
    session.save()
    with pytest.raises(ValidationError) as refused:
        site_room_delete(room=room, actor=site_admin)
    assert refused.value.messages == ["Hall is used by 1 upcoming session: choose another room for it first."]


def test_the_course_list_counts_seminars_in_words(client, course, seminar, learner):
    client.force_login(learner)
    html = client.get(reverse("seminars:courses")).content.decode()
    assert re.search(r"SAFE · 1 seminar\s", html)
    assert "1 seminars" not in html
