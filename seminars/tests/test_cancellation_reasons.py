"""Cancellation reasons: asked when a learner or a trainer cancels a booking and when an event is
cancelled, kept in the booking history, shown with the event's cancellations and quoted in the email."""

import pytest
from django.core import mail
from django.urls import reverse

from seminars.models import Booking, BookingStateChange, Notification, SeminarEvent
from seminars.services.bookings import booking_cancel, booking_create, bookings_event_cancelled
from seminars.services.events import event_cancel
from seminars.tests.conftest import field_error
from seminars.validators import REASON_MAX_LENGTH

State = Booking.State


@pytest.fixture
def lenas_booking(event, learner):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    return booking_create(event=event, user=learner, actor=learner)


def reasons(booking, state):
    return list(BookingStateChange.objects.filter(booking=booking, state=state).values_list("reason", flat=True))


def cancel_url(booking):
    return reverse("seminars:booking_cancel", args=[booking.pk])


def event_cancel_url(event):
    return reverse("seminars:event_cancel", args=[event.pk])


# --- Services ---------------------------------------------------------------------------------


def test_a_learners_reason_is_kept_in_the_history(lenas_booking, learner):
    booking_cancel(booking=lenas_booking, actor=learner, reason="Ill that week.")

    assert reasons(lenas_booking, State.USER_CANCELLED) == ["Ill that week."]
    assert reasons(lenas_booking, State.BOOKED) == [""]


def test_an_event_cancellation_reason_goes_into_every_active_bookings_history(event, learner, learner2, trainer):
    first = booking_create(event=event, user=learner, actor=learner)
    second = booking_create(event=event, user=learner2, actor=learner2)

    event_cancel(event=event, actor=trainer, reason="The trainer is ill.")

    assert reasons(first, State.EVENT_CANCELLED) == ["The trainer is ill."]
    assert reasons(second, State.EVENT_CANCELLED) == ["The trainer is ill."]
    told = Notification.objects.filter(user__in=[learner, learner2]).values_list("body", flat=True)
    assert list(told) == ["Your signup has been cancelled with the event. Reason: The trainer is ill."] * 2


@pytest.mark.django_db(transaction=True)
def test_the_cancellation_email_quotes_the_reason(lenas_booking, learner):
    mail.outbox.clear()
    booking_cancel(booking=lenas_booking, actor=learner, reason="Ill that week.\nSorry <all>.")

    (message,) = mail.outbox
    assert "Reason: Ill that week." in message.body
    html = message.alternatives[0][0]
    assert "Reason: Ill that week.<br>Sorry &lt;all&gt;." in html


@pytest.mark.django_db(transaction=True)
def test_the_event_cancelled_email_quotes_the_reason_and_none_is_said_without_one(event, learner, learner2, trainer):
    booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=learner2)
    mail.outbox.clear()

    bookings_event_cancelled(event=event, actor=trainer, reason="The room flooded.")

    to_learners = [m for m in mail.outbox if m.subject.startswith("Event cancelled")]
    assert {m.to[0] for m in to_learners} >= {learner.email, learner2.email}
    learner_emails = [m for m in to_learners if m.to[0] in (learner.email, learner2.email)]
    assert all("Reason: The room flooded." in m.body for m in learner_emails)


@pytest.mark.django_db(transaction=True)
def test_without_a_reason_the_email_has_no_reason_line(lenas_booking, learner):
    mail.outbox.clear()
    booking_cancel(booking=lenas_booking, actor=learner)

    (message,) = mail.outbox
    assert "Reason:" not in message.body


# --- The learner's and the trainer's cancel page ------------------------------------------


def test_the_cancel_page_asks_for_an_optional_reason(client, learner, lenas_booking):
    client.force_login(learner)
    page = client.get(cancel_url(lenas_booking)).content.decode()
    assert 'name="reason"' in page
    assert "Optional; kept in the booking history" in page


def test_a_learner_cancels_with_a_reason(client, learner, lenas_booking):
    client.force_login(learner)
    response = client.post(cancel_url(lenas_booking), {"reason": "Ill that week."})
    assert response.status_code == 302
    assert reasons(lenas_booking, State.USER_CANCELLED) == ["Ill that week."]


def test_a_trainer_removing_someone_gives_a_reason(client, trainer, lenas_booking):
    client.force_login(trainer)
    client.post(cancel_url(lenas_booking), {"reason": "Not eligible."})
    change = BookingStateChange.objects.get(booking=lenas_booking, state=State.USER_CANCELLED)
    assert (change.reason, change.changed_by) == ("Not eligible.", trainer)


def test_a_reason_is_optional_by_default(client, learner, lenas_booking):
    client.force_login(learner)
    assert client.post(cancel_url(lenas_booking)).status_code == 302
    assert reasons(lenas_booking, State.USER_CANCELLED) == [""]


def test_the_site_can_require_a_reason(client, learner, lenas_booking, settings):
    settings.SEMINARS_CANCELLATION_REASON_REQUIRED = True
    client.force_login(learner)

    response = client.post(cancel_url(lenas_booking), {"reason": "   "})

    assert response.status_code == 400
    assert field_error(response.content.decode(), "reason") == "Give a reason for the cancellation."
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED
    assert client.post(cancel_url(lenas_booking), {"reason": "Ill."}).status_code == 302


@pytest.mark.parametrize(
    "reason, message",
    [
        ("x" * (REASON_MAX_LENGTH + 1), f"Ensure this value has at most {REASON_MAX_LENGTH} characters"),
        ("Ill\x00", "Remove the control characters from this text."),
    ],
)
def test_a_bad_reason_is_refused_at_the_field_and_nothing_changes(client, learner, lenas_booking, reason, message):
    client.force_login(learner)
    response = client.post(cancel_url(lenas_booking), {"reason": reason})
    assert response.status_code == 400
    assert message in field_error(response.content.decode(), "reason")
    lenas_booking.refresh_from_db()
    assert lenas_booking.state == State.BOOKED


def test_a_multi_line_reason_is_kept(client, learner, lenas_booking):
    client.force_login(learner)
    client.post(cancel_url(lenas_booking), {"reason": "Ill.\r\n\tSorry."})
    assert reasons(lenas_booking, State.USER_CANCELLED) == ["Ill.\r\n\tSorry."]


# --- The event's cancel page --------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status, cancelled",
    [
        ("site_admin", 302, True),
        ("editing_trainer", 302, True),
        ("trainer", 403, False),
        ("learner", 403, False),
        ("outsider", 404, False),
        ("anonymous", 302, False),  # to the login page
    ],
)
def test_event_cancel_with_a_reason_matrix(client, request, event, lenas_booking, role, status, cancelled):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    response = client.post(event_cancel_url(event), {"reason": "The trainer is ill."})
    assert response.status_code == status
    event.refresh_from_db()
    assert event.cancelled is cancelled
    assert reasons(lenas_booking, State.EVENT_CANCELLED) == (["The trainer is ill."] if cancelled else [])


def test_event_cancel_requires_a_reason_when_the_site_says_so(client, editing_trainer, event, settings):
    settings.SEMINARS_CANCELLATION_REASON_REQUIRED = True
    client.force_login(editing_trainer)
    page = client.get(event_cancel_url(event)).content.decode()
    assert 'name="reason"' in page and "required" in page

    response = client.post(event_cancel_url(event), {})

    assert response.status_code == 400
    assert field_error(response.content.decode(), "reason") == "Give a reason for the cancellation."
    event.refresh_from_db()
    assert not event.cancelled


# --- Where the history is shown --------------------------------------------------------------


def test_the_trainers_list_of_cancellations_shows_each_reason(client, editing_trainer, event, learner, learner2):
    first = booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=learner2)
    booking_cancel(booking=first, actor=learner, reason="Ill <that> week.")
    event_cancel(event=event, actor=editing_trainer, reason="The room flooded.")
    client.force_login(editing_trainer)

    page = client.get(event.get_absolute_url()).content.decode()

    assert "Ill &lt;that&gt; week." in page
    assert "The room flooded." in page


def test_a_reason_from_an_earlier_cancellation_is_not_shown_for_a_later_one(
    client, editing_trainer, event, learner, lenas_booking
):
    booking_cancel(booking=lenas_booking, actor=learner, reason="First time.")
    booking_create(event=event, user=learner, actor=learner)
    booking_cancel(booking=lenas_booking, actor=learner, reason="")
    client.force_login(editing_trainer)

    assert "First time." not in client.get(event.get_absolute_url()).content.decode()


def test_the_event_page_queries_stay_constant_with_cancellation_reasons(
    client, editing_trainer, event, django_assert_max_num_queries
):
    from seminars.models import Enrolment
    from seminars.tests.conftest import enrol, make_user

    def cancel_some(count, start):
        for number in range(start, start + count):
            user = make_user(f"learner{number}")
            enrol(user, event.seminar.course, Enrolment.Role.LEARNER)
            event.capacity = 100
            event.save()
            booking = booking_create(event=event, user=user, actor=user)
            booking_cancel(booking=booking, actor=user, reason=f"Reason {number}")

    client.force_login(editing_trainer)
    cancel_some(3, 0)
    with django_assert_max_num_queries(40) as few:
        client.get(event.get_absolute_url())
    cancel_some(12, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(event.get_absolute_url()).content.decode()
    assert "Reason 14" in page
