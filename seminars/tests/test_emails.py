"""The emails learners get about their bookings, read as a mail client would: parsed MIME."""

from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from icalendar import Calendar

from seminars.models import Booking, Room, SeminarEvent
from seminars.notifications import notify_event_times_changed
from seminars.services.bookings import booking_cancel, booking_create, bookings_event_cancelled
from seminars.tests.conftest import make_user

# The services send their emails when their transaction commits: these tests really commit.
pytestmark = pytest.mark.django_db(transaction=True)

MEETING_LINK = "https://meet.example.com/j/98765?pwd=very-secret"


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


@pytest.fixture
def roomed_event(event):
    room = Room.objects.create(name="Training room 3", capacity=20, virtual_kind="custom", virtual_url=MEETING_LINK)
    event.sessions.update(room=room)
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    return event


def parsed(message):
    return message_from_bytes(message.message().as_bytes())


def part(message, content_type):
    parts = [p for p in parsed(message).walk() if p.get_content_type() == content_type]
    return parts[0] if parts else None


def text_of(message, content_type):
    found = part(message, content_type)
    return found.get_payload(decode=True).decode(found.get_content_charset() or "utf-8") if found else None


def calendar_of(message):
    return text_of(message, "text/calendar")


def prop(calendar, name):
    """The values of property `name` anywhere in the calendar, parsed back with icalendar, as written."""
    values = []
    for component in Calendar.from_ical(calendar).walk():
        found = component.get(name)
        for value in found if isinstance(found, list) else [found] if found is not None else []:
            values.append(value.to_ical().decode() if hasattr(value, "to_ical") else str(value))
    return values


def everything_readable(message):
    """Every decoded part plus the headers: where a leaked link could hide."""
    raw = parsed(message)
    texts = [str(raw.items())]
    for p in raw.walk():
        payload = p.get_payload(decode=True)
        if payload:
            texts.append(payload.decode("utf-8"))
    return "\n".join(texts)


def test_booking_email_has_text_html_and_a_request_calendar(roomed_event, learner, outbox):
    booking_create(event=roomed_event, user=learner, actor=learner)

    [message] = outbox
    assert message.to == [learner.email]
    text, html = text_of(message, "text/plain"), text_of(message, "text/html")
    assert "Your booking is confirmed" in text and "Your booking is confirmed" in html
    assert "Training room 3" in text and "Training room 3" in html
    assert f"http://testserver/events/{roomed_event.pk}/" in text

    calendar_part = part(message, "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_filename() == "invite.ics"
    calendar = calendar_of(message)
    assert "\r\n" in calendar and "\n" not in calendar.replace("\r\n", "")
    assert prop(calendar, "METHOD") == ["REQUEST"]
    assert prop(calendar, "URL") == [f"http://testserver/events/{roomed_event.pk}/"]
    assert prop(calendar, "LOCATION") == ["Training room 3"]
    assert prop(calendar, "ATTENDEE") == [f"mailto:{learner.email}"]


def test_no_email_or_calendar_ever_carries_the_meeting_link(roomed_event, learner, learner2, editing_trainer, outbox):
    booking = booking_create(event=roomed_event, user=learner, actor=learner)
    booking_create(event=roomed_event, user=learner2, actor=learner2)
    notify_event_times_changed(event=roomed_event)
    booking_cancel(booking=booking, actor=learner)
    bookings_event_cancelled(event=roomed_event, actor=editing_trainer)

    assert len(outbox) >= 6
    assert any(calendar_of(m) for m in outbox)
    for message in outbox:
        readable = everything_readable(message)
        assert "meet.example.com" not in readable
        assert "very-secret" not in readable


def test_uid_is_stable_and_sequence_grows_when_times_change(roomed_event, learner, outbox, time_machine):
    booking_create(event=roomed_event, user=learner, actor=learner)
    time_machine.move_to(roomed_event.updated_at + timedelta(minutes=3))
    session = roomed_event.sessions.get()
    session.start += timedelta(hours=2)
    session.finish += timedelta(hours=2)
    session.save()

    notify_event_times_changed(event=roomed_event)

    first, second = calendar_of(outbox[0]), calendar_of(outbox[1])
    assert outbox[1].subject.startswith("New times")
    assert prop(first, "UID") == prop(second, "UID") == [f"session-{session.pk}@testserver"]
    assert int(prop(second, "SEQUENCE")[0]) > int(prop(first, "SEQUENCE")[0])
    assert prop(second, "DTSTART") == [session.start.strftime("%Y%m%dT%H%M%SZ")]
    assert prop(second, "METHOD") == ["REQUEST"]


def test_times_changed_goes_to_booked_learners_only(roomed_event, learner, learner2, outbox):
    roomed_event.capacity = 1
    roomed_event.waitlist_enabled = True
    roomed_event.save()
    booking_create(event=roomed_event, user=learner, actor=learner)
    booking_create(event=roomed_event, user=learner2, actor=learner2)
    outbox.clear()

    notify_event_times_changed(event=roomed_event)

    assert [m.to for m in outbox] == [[learner.email]]


def test_cancellation_carries_a_cancel_calendar_with_the_same_uid(roomed_event, learner, outbox):
    booking = booking_create(event=roomed_event, user=learner, actor=learner)
    booking_cancel(booking=booking, actor=learner)

    booked, cancelled = outbox
    assert cancelled.subject.startswith("Booking cancelled")
    assert part(cancelled, "text/calendar").get_param("method") == "CANCEL"
    calendar = calendar_of(cancelled)
    assert prop(calendar, "METHOD") == ["CANCEL"]
    assert prop(calendar, "STATUS") == ["CANCELLED"]
    assert prop(calendar, "UID") == prop(calendar_of(booked), "UID")


def test_event_cancellation_sends_cancel_calendars_to_booked_learners(roomed_event, learner, learner2, outbox):
    roomed_event.capacity = 1
    roomed_event.waitlist_enabled = True
    roomed_event.save()
    booking_create(event=roomed_event, user=learner, actor=learner)
    booking_create(event=roomed_event, user=learner2, actor=learner2)
    outbox.clear()

    bookings_event_cancelled(event=roomed_event, actor=None)

    to_learner = next(m for m in outbox if m.to == [learner.email])
    to_waitlisted = next(m for m in outbox if m.to == [learner2.email])
    assert to_learner.subject.startswith("Event cancelled")
    assert prop(calendar_of(to_learner), "METHOD") == ["CANCEL"]
    assert to_waitlisted.subject.startswith("Event cancelled")
    assert calendar_of(to_waitlisted) is None  # never had a calendar entry


def test_waitlist_email_has_no_calendar(roomed_event, learner, learner2, outbox):
    roomed_event.capacity = 1
    roomed_event.waitlist_enabled = True
    roomed_event.save()
    booking_create(event=roomed_event, user=learner, actor=learner)
    booking_create(event=roomed_event, user=learner2, actor=learner2)

    waitlisted = outbox[1]
    assert waitlisted.subject.startswith("You are on the waitlist")
    assert calendar_of(waitlisted) is None
    assert "waitlist" in text_of(waitlisted, "text/plain")


def test_times_are_shown_in_the_session_zone_and_the_learners_zone(roomed_event, learner, outbox):
    from seminars.models import Profile

    Profile.objects.create(user=learner, time_zone="America/New_York")
    booking_create(event=roomed_event, user=learner, actor=learner)

    text = text_of(outbox[0], "text/plain")
    assert "(Europe/London)" in text
    assert "Your time:" in text and "(America/New_York)" in text


def test_learner_without_email_gets_no_mail_but_is_still_booked(roomed_event, course, outbox):
    from seminars.tests.conftest import enrol

    quiet = make_user("quiet")
    quiet.email = ""
    quiet.save()
    enrol(quiet, course)

    booking = booking_create(event=roomed_event, user=quiet, actor=quiet)

    assert booking.state == Booking.State.BOOKED
    assert outbox == []


def test_a_removed_session_is_withdrawn_from_booked_learners_calendars(client, event, editing_trainer, learner, outbox):
    from zoneinfo import ZoneInfo

    from django.urls import reverse

    from seminars.ical import session_uid
    from seminars.tests.conftest import event_post_data, make_session

    first = event.sessions.get()
    second = make_session(event, (first.start + timedelta(days=1)).astimezone(ZoneInfo("UTC")))
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    outbox.clear()

    def local(moment):
        return moment.astimezone(ZoneInfo(first.time_zone)).strftime("%Y-%m-%dT%H:%M")

    client.force_login(editing_trainer)
    data = event_post_data(
        sessions=[
            {"id": first.pk, "start": local(first.start), "finish": local(first.finish), "zone": first.time_zone},
            {
                "id": second.pk,
                "start": local(second.start),
                "finish": local(second.finish),
                "zone": first.time_zone,
                "delete": True,
            },
        ],
        initial_forms=2,
        capacity=event.capacity,
    )
    assert client.post(reverse("seminars:event_edit", args=[event.pk]), data).status_code == 302

    [message] = [m for m in outbox if learner.email in m.to]
    calendars = {
        p.get_filename(): p.get_payload(decode=True).decode()
        for p in parsed(message).walk()
        if p.get_content_type() == "text/calendar"
    }
    assert prop(calendars["invite.ics"], "METHOD") == ["REQUEST"]
    assert prop(calendars["invite.ics"], "UID") == [session_uid(first.pk)]
    assert prop(calendars["cancel.ics"], "METHOD") == ["CANCEL"]
    assert prop(calendars["cancel.ics"], "STATUS") == ["CANCELLED"]
    assert prop(calendars["cancel.ics"], "UID") == [session_uid(second.pk)]
