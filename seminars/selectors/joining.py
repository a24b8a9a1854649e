"""The "Join now" click's one read of seminars: the session, its event, seminar, course and room, with the
viewer's enrolment role and booking, in one hand-written query (lms.rows) built once per process.

The queryset that reads the same (select_related with two subqueries) costs the worker about 2.5 ms to
build per request and 0.3 ms to run; see docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

from lms.rows import Columns
from seminars.models import Booking, Course, Enrolment, Room, Seminar, SeminarEvent, Session


@dataclass(frozen=True)
class ViewerSession:
    session: Session  # with .event, .event.seminar, .event.seminar.course and .room read
    role: str | None  # the viewer's enrolment role in the course, or None
    booking_id: int | None
    booking_state: str | None


@lru_cache(maxsize=1)
def _plan():
    session = Columns(Session, "s")
    event = Columns(SeminarEvent, "ev")
    seminar = Columns(Seminar, "sem")
    course = Columns(Course, "c")
    room = Columns(Room, "r")
    q = connection.ops.quote_name
    sql = (
        f"SELECT {session.sql}, {event.sql}, {seminar.sql}, {course.sql}, {room.sql}, "
        f"(SELECT e.{q('role')} FROM {q(Enrolment._meta.db_table)} e "
        f"WHERE e.{q('course_id')} = c.{q('id')} AND e.{q('user_id')} = %s LIMIT 1), "
        f"b.{q('id')}, b.{q('state')} "
        f"FROM {q(Session._meta.db_table)} s "
        f"JOIN {q(SeminarEvent._meta.db_table)} ev ON ev.{q('id')} = s.{q('event_id')} "
        f"JOIN {q(Seminar._meta.db_table)} sem ON sem.{q('id')} = ev.{q('seminar_id')} "
        f"JOIN {q(Course._meta.db_table)} c ON c.{q('id')} = sem.{q('course_id')} "
        f"LEFT JOIN {q(Room._meta.db_table)} r ON r.{q('id')} = s.{q('room_id')} "
        f"LEFT JOIN {q(Booking._meta.db_table)} b ON b.{q('event_id')} = s.{q('event_id')} AND b.{q('user_id')} = %s "
        f"WHERE s.{q('id')} = %s"
    )
    return sql, (session, event, seminar, course, room)


def viewer_session(*, user_id: int, session_id: int) -> ViewerSession | None:
    """The session `session_id` as `user_id` joins it (None when there is no such session): one query."""
    sql, parts = _plan()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id, session_id])
        row = cursor.fetchone()
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
    return ViewerSession(session=session, role=role, booking_id=booking_id, booking_state=booking_state)
