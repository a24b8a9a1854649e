"""The email calendars, parsed back with icalendar: UTC instants, UIDs, methods, escaping, SEQUENCE."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from seminars import ical
from seminars.models import Booking, Room
from seminars.tests.conftest import make_session


@pytest.fixture
def calendar_event(event, learner):
    room = Room.objects.create(name="Room 1, Floor 2; East\\Wing", capacity=10)
    event.sessions.update(room=room)
    make_session(event, datetime(2031, 7, 1, 10, 0), minutes=90, zone="Europe/London")  # BST: 09:00 UTC
    return event


def calendar_for(event, learner, method=ical.REQUEST, booking=None):
    sessions = list(event.sessions.select_related("room").order_by("start"))
    text = ical.event_calendar(
        event=event,
        sessions=sessions,
        method=method,
        attendee=learner,
        url="http://testserver/events/1/",
        booking=booking,
    )
    return text, Calendar.from_ical(text)


def test_calendar_has_one_vevent_per_session_at_the_right_instants(calendar_event, learner):
    text, calendar = calendar_for(calendar_event, learner)

    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "REQUEST"
    sessions = list(calendar_event.sessions.order_by("start"))
    assert len(calendar.events) == 2
    for vevent, session in zip(calendar.events, sessions, strict=True):
        assert vevent["UID"] == f"session-{session.pk}@testserver"
        assert vevent.start == session.start and vevent.end == session.finish
        assert vevent.start.tzinfo is not None and vevent.start.utcoffset() == timedelta(0)
        assert vevent["STATUS"] == "CONFIRMED"
    assert calendar.events[1].start == datetime(2031, 7, 1, 9, 0, tzinfo=UTC)
    assert "DTSTART:20310701T090000Z" in text


def test_long_lines_are_folded_and_text_round_trips(calendar_event, learner):
    calendar_event.seminar.name = "Zürich–Genève é€, a deliberately long seminar name; to force folding " * 2
    text, calendar = calendar_for(calendar_event, learner)

    physical = text.split("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    assert calendar.events[0]["SUMMARY"] == f"{calendar_event.seminar.name}: {calendar_event.title}"


def test_location_is_the_room_name_escaped_and_read_back(calendar_event, learner):
    text, calendar = calendar_for(calendar_event, learner)
    assert "LOCATION:Room 1\\, Floor 2\\; East\\\\Wing" in text
    assert calendar.events[0]["LOCATION"] == "Room 1, Floor 2; East\\Wing"


def test_attendee_and_organizer(calendar_event, learner):
    _, calendar = calendar_for(calendar_event, learner)
    vevent = calendar.events[0]
    assert str(vevent["ATTENDEE"]) == f"mailto:{learner.email}"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(vevent["ORGANIZER"]).startswith("mailto:")


def test_cancel_marks_every_event_cancelled(calendar_event, learner):
    _, calendar = calendar_for(calendar_event, learner, method=ical.CANCEL)
    assert calendar["METHOD"] == "CANCEL"
    assert {vevent["STATUS"] for vevent in calendar.events} == {"CANCELLED"}


def test_sequence_follows_the_events_last_change(calendar_event, learner):
    _, calendar = calendar_for(calendar_event, learner)
    assert {vevent["SEQUENCE"] for vevent in calendar.events} == {int(calendar_event.updated_at.timestamp())}


def test_a_later_booking_change_raises_the_sequence_and_an_older_one_does_not_lower_it(calendar_event, learner):
    booking = Booking.objects.create(event=calendar_event, user=learner)
    Booking.objects.filter(pk=booking.pk).update(updated_at=calendar_event.updated_at + timedelta(minutes=5))
    booking.refresh_from_db()
    _, later = calendar_for(calendar_event, learner, method=ical.CANCEL, booking=booking)
    assert later.events[0]["SEQUENCE"] == int(calendar_event.updated_at.timestamp()) + 300

    Booking.objects.filter(pk=booking.pk).update(updated_at=calendar_event.updated_at - timedelta(days=1))
    booking.refresh_from_db()
    _, older = calendar_for(calendar_event, learner, booking=booking)
    assert older.events[0]["SEQUENCE"] == int(calendar_event.updated_at.timestamp())


def test_unknown_method_is_refused(calendar_event, learner):
    with pytest.raises(ValueError):
        calendar_for(calendar_event, learner, method="PUBLISH")
