"""Booking states and transitions: book, waitlist, cancel, promotion, event cancellation, attendance."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from seminars.models import Booking, BookingStateChange, Notification, SeminarEvent
from seminars.services.bookings import (
    BookingError,
    booking_cancel,
    booking_create,
    booking_set_attendance,
    bookings_event_cancelled,
    bookings_promote_waitlist,
)
from seminars.tests.conftest import make_session

State = Booking.State


def history(booking):
    return list(BookingStateChange.objects.filter(booking=booking).values_list("state", "changed_by__username"))


def book(event, user):
    return booking_create(event=event, user=user, actor=user)


# Emails go out when the services' transactions commit: these tests really commit.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def emails():
    mail.outbox.clear()
    return mail.outbox


@committed
def test_learner_books_a_free_seat_and_gets_a_confirmation(event, learner, emails):
    booking = book(event, learner)

    assert booking.state == State.BOOKED
    assert history(booking) == [("booked", "lena")]
    assert [m.to for m in emails] == [[learner.email]]
    assert emails[0].subject.startswith("Booking confirmed")


def test_full_event_without_waitlist_refuses_and_saves_nothing(event, learner, learner2, learner3):
    book(event, learner)
    book(event, learner2)

    with pytest.raises(BookingError, match="This event is full."):
        book(event, learner3)
    assert not Booking.objects.filter(user=learner3).exists()


@committed
def test_full_event_with_waitlist_puts_the_learner_on_it(event, learner, learner2, learner3, emails):
    event.waitlist_enabled = True
    event.save()
    book(event, learner)
    book(event, learner2)

    booking = book(event, learner3)

    assert booking.state == State.WAITLISTED
    assert emails[-1].to == [learner3.email]
    assert emails[-1].subject.startswith("You are on the waitlist")
    assert not emails[-1].attachments  # no seat, no calendar entry


@committed
def test_event_without_sessions_is_waitlist_only_until_dates_are_added(seminar, learner, learner2, emails):
    event = SeminarEvent.objects.create(seminar=seminar, name="Dates to follow", capacity=1)

    first = book(event, learner)
    second = book(event, learner2)
    assert (first.state, second.state) == (State.WAITLISTED, State.WAITLISTED)

    make_session(event, datetime(2031, 3, 4, 9, 0), zone="Europe/Paris")
    promoted = bookings_promote_waitlist(event=event, actor=None)

    assert promoted == [first]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.BOOKED, State.WAITLISTED)
    assert emails[-1].to == [learner.email]
    assert emails[-1].subject.startswith("A seat freed up")


def test_promotion_fills_every_new_seat_when_capacity_grows(event, learner, learner2, learner3):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    book(event, learner)
    book(event, learner2)
    book(event, learner3)

    event.capacity = 3
    event.save()
    promoted = bookings_promote_waitlist(event=event, actor=None)

    assert [b.user for b in promoted] == [learner2, learner3]
    assert Booking.objects.filter(event=event, state=State.BOOKED).count() == 3


@pytest.mark.parametrize("who", ["trainer", "editing_trainer", "site_admin", "outsider"])
def test_only_enrolled_learners_can_book(event, who, request):
    user = request.getfixturevalue(who)
    with pytest.raises(BookingError, match="Only learners enrolled in this course"):
        book(event, user)
    assert not Booking.objects.exists()


def test_a_learner_cannot_book_someone_else(event, learner, learner2):
    with pytest.raises(BookingError, match="only book for yourself"):
        booking_create(event=event, user=learner2, actor=learner)


def test_a_trainer_can_book_a_learner(event, learner, trainer):
    booking = booking_create(event=event, user=learner, actor=trainer)
    assert booking.state == State.BOOKED
    assert history(booking) == [("booked", "tom")]


def test_cancelled_event_cannot_be_booked(event, learner):
    event.cancelled = True
    event.save()
    with pytest.raises(BookingError, match="cancelled"):
        book(event, learner)


def test_started_event_cannot_be_booked(event, learner, time_machine):
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=1))
    with pytest.raises(BookingError, match="already started"):
        book(event, learner)


def test_booking_twice_is_refused(event, learner):
    book(event, learner)
    with pytest.raises(BookingError, match="already have a signup"):
        book(event, learner)
    assert Booking.objects.filter(user=learner).count() == 1


def test_rebooking_after_a_cancellation_reuses_the_row(event, learner):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    first = book(event, learner)
    booking_cancel(booking=first, actor=learner)

    again = book(event, learner)

    assert again.pk == first.pk
    assert again.state == State.BOOKED
    assert history(again) == [("booked", "lena"), ("user_cancelled", "lena"), ("booked", "lena")]


@committed
def test_cancelling_frees_the_seat_for_the_oldest_waitlisted_learner(event, learner, learner2, learner3, emails):
    event.capacity = 1
    event.waitlist_enabled = True
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    mine = book(event, learner)
    first_waiting = book(event, learner2)
    second_waiting = book(event, learner3)
    emails.clear()

    booking_cancel(booking=mine, actor=learner)

    mine.refresh_from_db()
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert mine.state == State.USER_CANCELLED
    assert first_waiting.state == State.BOOKED
    assert second_waiting.state == State.WAITLISTED
    assert history(first_waiting) == [("waitlisted", "leo"), ("booked", "lena")]
    by_recipient = {m.to[0]: m.subject for m in emails}
    assert by_recipient[learner.email].startswith("Booking cancelled")
    assert by_recipient[learner2.email].startswith("A seat freed up, you are booked")
    assert learner3.email not in by_recipient


def test_leaving_the_waitlist_promotes_nobody(event, learner, learner2, learner3):
    event.capacity = 1
    event.waitlist_enabled = True
    event.cancellation_policy = SeminarEvent.CancellationPolicy.NEVER
    event.save()
    book(event, learner)
    waiting = book(event, learner2)
    book(event, learner3)

    booking_cancel(booking=waiting, actor=learner2)  # allowed even when cancellations are not

    assert dict(Booking.objects.values_list("user__username", "state")) == {
        "lena": "booked",
        "leo": "user_cancelled",
        "lia": "waitlisted",
    }


def test_policy_never_refuses_a_learner_but_not_a_trainer(event, learner, trainer):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.NEVER
    event.save()
    booking = book(event, learner)

    with pytest.raises(BookingError, match="not allowed"):
        booking_cancel(booking=booking, actor=learner)
    booking.refresh_from_db()
    assert booking.state == State.BOOKED

    booking_cancel(booking=booking, actor=trainer)
    booking.refresh_from_db()
    assert booking.state == State.USER_CANCELLED
    assert history(booking)[-1] == ("user_cancelled", "tom")


def test_policy_cutoff_allows_cancelling_until_n_hours_before_the_start(event, learner, time_machine):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.CUTOFF
    event.cancellation_cutoff_hours = 48
    event.save()
    start = event.sessions.get().start
    booking = book(event, learner)

    time_machine.move_to(start - timedelta(hours=48, seconds=1))
    booking_cancel(booking=booking, actor=learner)
    booking = book(event, learner)

    time_machine.move_to(start - timedelta(hours=47))
    with pytest.raises(BookingError, match="48 hours before the event starts"):
        booking_cancel(booking=booking, actor=learner)
    booking.refresh_from_db()
    assert booking.state == State.BOOKED


def test_learner_cannot_cancel_someone_elses_booking(event, learner, learner2):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    booking = book(event, learner)
    with pytest.raises(BookingError, match="only cancel your own"):
        booking_cancel(booking=booking, actor=learner2)


def test_cancelling_twice_is_refused(event, learner):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    booking = book(event, learner)
    booking_cancel(booking=booking, actor=learner)
    with pytest.raises(BookingError, match="not active"):
        booking_cancel(booking=booking, actor=learner)


@committed
def test_event_cancellation_moves_active_bookings_and_tells_everyone(
    event, learner, learner2, learner3, trainer, editing_trainer, emails
):
    event.capacity = 1
    event.waitlist_enabled = True
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    booked = book(event, learner)
    waiting = book(event, learner2)
    gone = book(event, learner3)
    booking_cancel(booking=gone, actor=learner3)
    emails.clear()

    changed = bookings_event_cancelled(event=event, actor=editing_trainer)

    assert {b.pk for b in changed} == {booked.pk, waiting.pk}
    assert dict(Booking.objects.values_list("user__username", "state")) == {
        "lena": "event_cancelled",
        "leo": "event_cancelled",
        "lia": "user_cancelled",
    }
    assert history(booked)[-1] == ("event_cancelled", "edna")
    recipients = sorted(address for m in emails for address in m.to)
    assert recipients == sorted([learner.email, learner2.email, trainer.email, editing_trainer.email])
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {"lena", "leo", "tom", "edna"}
    learner_mail = next(m for m in emails if m.to == [learner.email])
    assert learner_mail.subject.startswith("Event cancelled")


def test_attendance_is_taken_by_trainers_after_the_start(event, learner, trainer, time_machine):
    booking = book(event, learner)
    with pytest.raises(BookingError, match="once the event has started"):
        booking_set_attendance(booking=booking, state=State.FULLY_ATTENDED, actor=trainer)

    time_machine.move_to(event.sessions.get().start + timedelta(minutes=5))
    with pytest.raises(BookingError, match="Only trainers"):
        booking_set_attendance(booking=booking, state=State.FULLY_ATTENDED, actor=learner)
    with pytest.raises(BookingError, match="Choose"):
        booking_set_attendance(booking=booking, state=State.USER_CANCELLED, actor=trainer)

    booking_set_attendance(booking=booking, state=State.PARTIALLY_ATTENDED, actor=trainer)
    booking_set_attendance(booking=booking, state=State.PARTIALLY_ATTENDED, actor=trainer)  # no change, no row
    booking_set_attendance(booking=booking, state=State.NO_SHOW, actor=trainer)

    booking.refresh_from_db()
    assert booking.state == State.NO_SHOW
    assert history(booking) == [("booked", "lena"), ("partially_attended", "tom"), ("no_show", "tom")]


def test_attendance_states_keep_their_seat(event, learner, learner2, learner3, trainer, time_machine):
    event.waitlist_enabled = True
    event.save()
    book(event, learner)
    marked = book(event, learner2)
    waiting = book(event, learner3)
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=5))

    booking_set_attendance(booking=marked, state=State.NO_SHOW, actor=trainer)
    promoted = bookings_promote_waitlist(event=event, actor=trainer)

    assert promoted == []
    waiting.refresh_from_db()
    assert waiting.state == State.WAITLISTED


def test_attendance_only_for_booked_learners(event, learner, learner2, trainer, time_machine):
    event.capacity = 1
    event.waitlist_enabled = True
    event.save()
    book(event, learner)
    waiting = book(event, learner2)
    time_machine.move_to(event.sessions.get().start + timedelta(minutes=5))
    with pytest.raises(BookingError, match="only be taken for booked learners"):
        booking_set_attendance(booking=waiting, state=State.FULLY_ATTENDED, actor=trainer)


def test_history_records_when(event, learner, time_machine):
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("UTC"))
    time_machine.move_to(moment, tick=False)
    event.sessions.update(start=moment + timedelta(days=3), finish=moment + timedelta(days=3, hours=1))
    booking = book(event, learner)
    change = BookingStateChange.objects.get(booking=booking)
    assert change.changed_at == moment
    assert change.changed_by == learner
    assert timezone.is_aware(change.changed_at)


@pytest.mark.parametrize("after_start, promoted_count", [(timedelta(seconds=-1), 1), (timedelta(0), 0)])
def test_a_seat_freed_once_the_event_started_stays_free(
    event, trainer, learner, learner2, learner3, time_machine, after_start, promoted_count
):
    event.waitlist_enabled = True
    event.save()
    first = book(event, learner)
    book(event, learner2)
    waiting = book(event, learner3)
    time_machine.move_to(event.sessions.get().start + after_start, tick=False)

    booking_cancel(booking=first, actor=trainer)

    waiting.refresh_from_db()
    assert waiting.state == (State.BOOKED if promoted_count else State.WAITLISTED)
