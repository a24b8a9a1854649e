"""The hand-written iCalendar: folding, escaping, UTC times, UIDs, methods."""

from datetime import datetime

import pytest

from seminars import ical
from seminars.models import Room
from seminars.tests.conftest import make_session


def unfold(text):
    return text.replace("\r\n ", "")


def lines_of(calendar):
    assert calendar.endswith("\r\n")
    return unfold(calendar).split("\r\n")[:-1]


def prop(calendar, name):
    return [line.split(":", 1)[1] for line in lines_of(calendar) if line.split(":", 1)[0].split(";")[0] == name]


def test_short_lines_are_not_folded():
    assert ical.fold("SUMMARY:Fire wardens") == "SUMMARY:Fire wardens"


def test_long_lines_fold_at_75_octets_and_unfold_to_the_original():
    line = "DESCRIPTION:" + "abcdefghij" * 20
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) == 3
    assert all(len(part.encode()) <= 75 for part in parts)
    assert len(parts[0].encode()) == 75
    assert all(part.startswith(" ") for part in parts[1:])
    assert unfold(folded) == line


def test_folding_never_splits_a_multibyte_character():
    line = "SUMMARY:" + "Zürich–Genève é€" * 10
    folded = ical.fold(line)
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
        part.encode("utf-8").decode("utf-8")  # each physical line is valid UTF-8 on its own
    assert unfold(folded) == line


def test_text_escaping():
    assert ical.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_parameter_values_with_separators_are_quoted():
    assert ical.param_value("Lena Smith") == "Lena Smith"
    assert ical.param_value('Smith, "Lena"') == '"Smith, Lena"'


@pytest.fixture
def calendar_event(event, learner):
    room = Room.objects.create(name="Room 1, Floor 2; East\\Wing", capacity=10)
    event.sessions.update(room=room)
    make_session(event, datetime(2031, 7, 1, 10, 0), minutes=90, zone="Europe/London")  # BST: 09:00 UTC
    return event


def calendar_for(event, learner, method=ical.REQUEST):
    sessions = list(event.sessions.select_related("room").order_by("start"))
    return ical.event_calendar(
        event=event, sessions=sessions, method=method, attendee=learner, url="http://testserver/events/1/"
    )


def test_calendar_has_one_vevent_per_session_with_utc_times(calendar_event, learner):
    calendar = calendar_for(calendar_event, learner)
    lines = lines_of(calendar)

    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert prop(calendar, "METHOD") == ["REQUEST"]
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    assert "20310701T090000Z" in prop(calendar, "DTSTART")
    assert "20310701T103000Z" in prop(calendar, "DTEND")
    assert set(prop(calendar, "STATUS")) == {"CONFIRMED"}
    uids = prop(calendar, "UID")
    assert uids == [f"session-{s.pk}@testserver" for s in calendar_event.sessions.order_by("start")]


def test_every_line_ends_with_crlf_and_none_is_longer_than_75_octets(calendar_event, learner):
    calendar_event.seminar.name = "A seminar with a deliberately long name, to force folding of SUMMARY" * 2
    calendar = calendar_for(calendar_event, learner)
    physical = calendar.split("\r\n")
    assert physical[-1] == ""
    assert "\n" not in calendar.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)


def test_location_is_the_escaped_room_name(calendar_event, learner):
    calendar = calendar_for(calendar_event, learner)
    assert "Room 1\\, Floor 2\\; East\\\\Wing" in prop(calendar, "LOCATION")


def test_cancel_marks_every_event_cancelled(calendar_event, learner):
    calendar = calendar_for(calendar_event, learner, method=ical.CANCEL)
    assert prop(calendar, "METHOD") == ["CANCEL"]
    assert set(prop(calendar, "STATUS")) == {"CANCELLED"}


def test_sequence_follows_the_events_last_change(calendar_event, learner):
    calendar = calendar_for(calendar_event, learner)
    assert set(prop(calendar, "SEQUENCE")) == {str(int(calendar_event.updated_at.timestamp()))}


def test_unknown_method_is_refused(calendar_event, learner):
    with pytest.raises(ValueError):
        calendar_for(calendar_event, learner, method="PUBLISH")
