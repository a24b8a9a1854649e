"""The "Join now" click's one read: the session, its event, seminar, course and room, with the viewer's
enrolment role and booking, and the session's meeting with the viewer's own links to it (virtualmeeting's
MeetingJoin), in one hand-written statement (lms.rows) built once per process and, on PostgreSQL, planned once
per connection.

The queryset that reads the same (select_related with two subqueries) costs the worker about 2.5 ms to
build per request and 0.3 ms to run; see docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

from lms.rows import Columns, Statement
from seminars.meetings import BOOKING_KEY, REFERENCE_PREFIX, staff_key
from seminars.models import Booking, Course, Enrolment, Room, Seminar, SeminarEvent, Session
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.selectors import MeetingJoin


@dataclass(frozen=True)
class ViewerSession:
    session: Session  # with .event, .event.seminar, .event.seminar.course and .room read
    role: str | None  # the viewer's enrolment role in the course, or None
    booking_id: int | None
    booking_state: str | None
    # The meeting whose reference the session and its room make (meeting_reference), whatever the room's kind
    # now, and the viewer's own join links to it as staff (staff_key) and by their booking (booking_key).
    meeting: VirtualMeeting | None
    staff_link: str
    booking_link: str


@lru_cache(maxsize=1)
def _plan():
    session = Columns(Session, "s")
    event = Columns(SeminarEvent, "ev")
    seminar = Columns(Seminar, "sem")
    course = Columns(Course, "c")
    room = Columns(Room, "r")
    q = connection.ops.quote_name
    # meeting_reference(session, room) in SQL, and the viewer's two registrant keys (staff_key, booking_key).
    reference = f"%s || s.{q('event_id')} || %s || s.{q('id')} || %s || s.{q('room_id')}"
    meeting = MeetingJoin(reference=reference, keys=["%s", f"%s || b.{q('id')}"])
    sql = (
        f"SELECT {session.sql}, {event.sql}, {seminar.sql}, {course.sql}, {room.sql}, "
        f"(SELECT e.{q('role')} FROM {q(Enrolment._meta.db_table)} e "
        f"WHERE e.{q('course_id')} = c.{q('id')} AND e.{q('user_id')} = %s LIMIT 1), "
        f"b.{q('id')}, b.{q('state')}, {meeting.select} "
        f"FROM {q(Session._meta.db_table)} s "
        f"JOIN {q(SeminarEvent._meta.db_table)} ev ON ev.{q('id')} = s.{q('event_id')} "
        f"JOIN {q(Seminar._meta.db_table)} sem ON sem.{q('id')} = ev.{q('seminar_id')} "
        f"JOIN {q(Course._meta.db_table)} c ON c.{q('id')} = sem.{q('course_id')} "
        f"LEFT JOIN {q(Room._meta.db_table)} r ON r.{q('id')} = s.{q('room_id')} "
        f"LEFT JOIN {q(Booking._meta.db_table)} b ON b.{q('event_id')} = s.{q('event_id')} AND b.{q('user_id')} = %s "
        f"{meeting.join} "
        f"WHERE s.{q('id')} = %s"
    )
    return Statement("seminars_viewer_session", sql), (session, event, seminar, course, room), meeting


def viewer_session(*, user_id: int, session_id: int) -> ViewerSession | None:
    """The session `session_id` as `user_id` joins it (None when there is no such session): one query."""
    statement, parts, meeting_join = _plan()
    params = [
        user_id,
        user_id,
        *meeting_join.params([REFERENCE_PREFIX, ":session:", ":room:"], [[staff_key(user_id)], [BOOKING_KEY]]),
        session_id,
    ]
    row = statement.fetchone(params)
    if row is None:
        return None
    objects, offset = [], 0
    for columns in parts:
        objects.append(columns.read(row, offset))
        offset += len(columns)
    session, event, seminar, course, room = objects
    seminar.course = course
    event.seminar = seminar
    session.event = event
    session.room = room
    role, booking_id, booking_state = row[offset : offset + 3]
    meeting, (staff_link, booking_link) = meeting_join.read(row, offset + 3)
    return ViewerSession(
        session=session,
        role=role,
        booking_id=booking_id,
        booking_state=booking_state,
        meeting=meeting,
        staff_link=staff_link,
        booking_link=booking_link,
    )
