"""The sweep benchmark's data: about `meetings` sessions, each with its Zoom meeting, written in SQL.

The table grows with history while the work due stays the same, so each kind of due work is a fixed
number of events (DUE below) whatever the size, and the rest is history and calm upcoming meetings:

- events of two one-hour sessions a day apart, each event in its own ad-hoc Zoom room (the meeting
  reference points at a live session, room and event: the reconciler wants it), two learners booked;
- nine events in ten are in the past, spread over two years: their meetings in sync, their occurrence
  polled, their learners attended; one in ten is upcoming (2-90 days), in sync, its first pre-start
  check planned a day before the start;
- the due work (the first event ids): meetings changed and due for a sync, pre-start checks due,
  registrants to register, finished meetings to poll (with and without a known occurrence), requests
  for a place on started events, events due a reminder and short of their minimum, and meetings whose
  session was deleted behind the services' back (orphans).

Ids are given (event e: sessions 2e-1 and 2e, room e, bookings 2e-1 and 2e), so one INSERT ... SELECT
per table writes every row (seconds at 100,000 meetings, where the ORM takes minutes).
"""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

# Event ids of each kind of due work, (first, last) included; the history starts after the last.
DUE = {
    "sync": (1, 150),  # 300 meetings changed, due for a sync
    "check": (151, 175),  # 50 meetings starting in 15-40 minutes, their pre-start check due
    "finished_unpolled": (176, 190),  # 30 meetings finished an hour ago, no occurrence known yet
    "poll": (191, 205),  # 30 meetings finished hours ago, their occurrence's poll due
    "started_requests": (206, 215),  # 10 events started ten minutes ago, a request for a place pending
    "reminder": (216, 225),  # 10 events starting in 20 hours (reminder due), short of their minimum
    "registrants": (226, 325),  # 200 meetings with 400 registrants to register
}
FIRST_HISTORY_EVENT = 326
ORPHANS = 10  # upcoming meetings whose sessions were deleted (e.g. in the Django admin)
LEARNERS = 200
TRAINERS = 20


def events_for(meetings: int) -> int:
    """Events (two sessions each) for about `meetings` meetings; never fewer than the due work needs."""
    return max(FIRST_HISTORY_EVENT + 9, meetings // 2)


def _in(kind: str, column: str = "e") -> str:
    first, last = DUE[kind]
    return f"{column} BETWEEN {first} AND {last}"


def event_start_sql(events: int) -> str:
    """SQL: the start of event `e`'s first session, relative to now()."""
    history = max(events - FIRST_HISTORY_EVENT + 1, 1)
    return f"""CASE
        WHEN {_in("sync")} THEN now() + interval '3 days' + e * interval '1 hour'
        WHEN {_in("check")} THEN now() + interval '15 minutes' + (e - {DUE["check"][0]}) * interval '1 minute'
        WHEN {_in("finished_unpolled")} THEN now() - interval '2 hours' - (e - {DUE["finished_unpolled"][0]})
            * interval '1 minute' - interval '1 day'
        WHEN {_in("poll")} THEN now() - interval '4 hours' - interval '1 day'
        WHEN {_in("started_requests")} THEN now() - interval '10 minutes'
        WHEN {_in("reminder")} THEN now() + interval '20 hours'
        WHEN {_in("registrants")} THEN now() + interval '5 days' + e * interval '1 hour'
        WHEN mod(e, 10) = 0 THEN now() + interval '2 days' + mod(e, 88) * interval '1 day'
        ELSE now() - interval '3 days' - (e - {FIRST_HISTORY_EVENT}) * (interval '730 days' / {history})
    END"""


def insert_rows(model, *, source: str, values: dict[str, str], params: tuple = ()) -> int:
    """INSERT INTO the model's table SELECT `values` FROM `source`: `values` maps field names to SQL
    expressions over `source`; the other fields take their model default (auto_now fields: now()).
    A literal % in an expression is written %%. Returns the rows written."""
    columns, expressions, arguments = [], [], []
    for field in model._meta.concrete_fields:
        name = field.attname if field.attname in values else field.name
        if field.primary_key and name not in values:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if name in values:
            expressions.append(values[name])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            expressions.append("%s")
            arguments.append(field.get_db_prep_save(field.get_default(), connection))
    unknown = (
        set(values) - {f.attname for f in model._meta.concrete_fields} - {f.name for f in model._meta.concrete_fields}
    )
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arguments, *params])
        return cursor.rowcount


def fill(meetings: int) -> dict:
    """Write the whole dataset in one transaction, ANALYZE, and return the row counts."""
    from seminars.models import Booking, Course, Enrolment, Room, Seminar, SeminarEvent, Session
    from virtualmeeting.models import MeetingOccurrence, MeetingRegistrant, VirtualMeeting

    User = get_user_model()
    events = events_for(meetings)
    courses = max(1, events // 2500)
    call_command("virtualmeeting_zoom_configure", simulator="http://127.0.0.1:9", stdout=io.StringIO())
    each_event = f"generate_series(1, {events}) AS g(e), LATERAL (SELECT {event_start_sql(events)} AS first) AS x"
    with transaction.atomic():
        insert_rows(
            User,
            source=f"generate_series(1, {TRAINERS + LEARNERS}) AS g(i)",
            values={
                "id": "i",
                "username": f"CASE WHEN i <= {TRAINERS} THEN 'trainer' ELSE 'learner' END || i",
                "email": "'person' || i || '@bench.test'",
                "first_name": "'Person'",
                "last_name": "i::text",
                "password": "'!'",
                "date_joined": "now()",
            },
        )
        insert_rows(
            Course, source=f"generate_series(1, {courses}) AS g(i)", values={"id": "i", "name": "'Course ' || i"}
        )
        insert_rows(
            Enrolment,
            source=f"generate_series(1, {courses}) AS c(course), generate_series(1, {TRAINERS}) AS t(trainer)",
            values={"course_id": "course", "user_id": "trainer", "role": "'editingtrainer'"},
        )
        insert_rows(
            Seminar,
            source=f"generate_series(1, {courses * 5}) AS g(i)",
            values={
                "id": "i",
                "course_id": f"mod(i - 1, {courses}) + 1",
                "name": "'Seminar ' || i",
                "reminder_offsets": "'24'",
            },
        )
        insert_rows(
            SeminarEvent,
            source=each_event,
            values={
                "id": "e",
                "seminar_id": f"mod(e - 1, {courses * 5}) + 1",
                "name": "'Event ' || e",
                # Short of its minimum: the reminder events; history with a minimum it reached (never warned).
                "minimum_bookings": f"CASE WHEN {_in('reminder')} THEN 3 WHEN mod(e, 5) = 0 THEN 2 END",
                "created_by_id": f"mod(e, {TRAINERS}) + 1",
            },
        )
        insert_rows(
            Room,
            source=each_event,
            values={
                "id": "e",
                "name": "'Room ' || e",
                "capacity": "30",
                "event_id": "e",
                "virtual_kind": "'zoom'",
                "created_by_id": f"mod(e, {TRAINERS}) + 1",
            },
        )
        insert_rows(
            Session,
            source=f"{each_event}, generate_series(0, 1) AS d(day)",
            values={
                "id": "2 * e - 1 + day",
                "event_id": "e",
                "room_id": "e",
                "start": "first + day * interval '1 day'",
                "finish": "first + day * interval '1 day' + interval '1 hour'",
                "time_zone": "'Europe/London'",
            },
        )
        insert_rows(
            Booking,
            source=f"{each_event}, generate_series(0, 1) AS d(seat)",
            values={
                "id": "2 * e - 1 + seat",
                "event_id": "e",
                "user_id": f"{TRAINERS + 1} + mod(2 * e + seat, {LEARNERS})",
                "state": f"CASE WHEN {_in('started_requests')} AND seat = 1 THEN 'requested'"
                " WHEN first < now() THEN 'fully_attended' ELSE 'booked' END",
                "created_at": "now() - interval '800 days'",
            },
        )
        _meetings(VirtualMeeting, events)
        _registrants(MeetingRegistrant)
        _occurrences(MeetingOccurrence)
        models = [
            User,
            Course,
            Enrolment,
            Seminar,
            SeminarEvent,
            Room,
            Session,
            Booking,
            VirtualMeeting,
            MeetingRegistrant,
            MeetingOccurrence,
        ]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "events": events,
        "sessions": Session.objects.count(),
        "meetings": VirtualMeeting.objects.count(),
        "registrants": MeetingRegistrant.objects.count(),
        "occurrences": MeetingOccurrence.objects.count(),
        "bookings": Booking.objects.count(),
    }


def _meetings(VirtualMeeting, events: int) -> None:
    """One meeting per session, as event_save makes them and the sync leaves them; then the orphans."""
    sync = f"s.event_id BETWEEN {DUE['sync'][0]} AND {DUE['sync'][1]}"
    check = f"s.event_id BETWEEN {DUE['check'][0]} AND {DUE['check'][1]}"
    values = {
        "id": "s.id",
        "reference": "'seminars.event:' || s.event_id || ':session:' || s.id || ':room:' || s.room_id",
        "provider": "'zoom'",
        "owner_id": f"mod(s.event_id, {TRAINERS}) + 1",
        "remote_owner_id": f"mod(s.event_id, {TRAINERS}) + 1",
        "topic": "'Seminar: Event ' || s.event_id",
        "start": "s.start",
        "finish": "s.finish",
        "time_zone": "'Europe/London'",
        "personal_links": "true",
        "registration": "true",
        "remote_id": "(80000000000 + s.id)::text",
        "join_url": "'https://zoom.example/j/' || (80000000000 + s.id)",
        "host_email": "'trainer@bench.test'",
        "marker": "md5('marker' || s.id)",
        "desired_version": f"CASE WHEN {sync} THEN 2 ELSE 1 END",
        "synced_version": "1",
        "status": f"CASE WHEN {sync} THEN 'updating' ELSE 'available' END",
        "next_attempt_at": f"CASE WHEN {sync} THEN now() - interval '1 minute' ELSE s.start - interval '30 days' END",
        "checked_before": f"CASE WHEN {check} THEN 120 END",
        "next_check_at": f"CASE WHEN {check} THEN now() - interval '1 minute'"
        " WHEN s.start > now() THEN s.start - interval '1440 minutes' END",
    }
    insert_rows(VirtualMeeting, source="seminars_session AS s", values=values)
    # Orphans: upcoming meetings of sessions (ids past the last) deleted behind the services' back.
    shift = 2 * events
    orphans = {
        **values,
        "id": f"s.id + {shift}",
        "reference": f"'seminars.event:' || s.event_id || ':session:' || (s.id + {shift}) || ':room:' || s.room_id",
        "marker": f"md5('marker' || (s.id + {shift}))",
        "remote_id": f"(80000000000 + s.id + {shift})::text",
        "desired_version": "1",
        "status": "'available'",
        "next_attempt_at": "s.start - interval '30 days'",
    }
    insert_rows(
        VirtualMeeting,
        source=f"seminars_session AS s WHERE s.event_id BETWEEN {DUE['registrants'][0]} AND {DUE['registrants'][1]}"
        f" ORDER BY s.id LIMIT {ORPHANS}",
        values=orphans,
    )


def _registrants(MeetingRegistrant) -> None:
    """Each meeting's registrants are its event's bookings: registered, except the due ones (pending)."""
    due = f"s.event_id BETWEEN {DUE['registrants'][0]} AND {DUE['registrants'][1]}"
    insert_rows(
        MeetingRegistrant,
        source="virtualmeeting_virtualmeeting AS m JOIN seminars_session AS s ON s.id = m.id"
        " JOIN seminars_booking AS b ON b.event_id = s.event_id",
        values={
            "meeting_id": "m.id",
            "key": "'booking:' || b.id",
            "user_id": "b.user_id",
            "first_name": "'Person'",
            "email": "'r' || m.id || '-' || b.id || '@bench.test'",
            "remote_id": f"CASE WHEN {due} THEN '' ELSE 'reg' || m.id || '-' || b.id END",
            "registered_at": f"CASE WHEN {due} THEN NULL ELSE m.start - interval '7 days' END",
            "status": f"CASE WHEN {due} THEN 'pending' ELSE 'registered' END",
            "next_attempt_at": f"CASE WHEN {due} THEN now() - interval '1 minute' ELSE m.start - interval '7 days' END",
        },
    )


def _occurrences(MeetingOccurrence) -> None:
    """Finished meetings have their occurrence, polled; the poll-due ones wait for it; the unpolled have none."""
    poll = f"s.event_id BETWEEN {DUE['poll'][0]} AND {DUE['poll'][1]}"
    unpolled = f"s.event_id BETWEEN {DUE['finished_unpolled'][0]} AND {DUE['finished_unpolled'][1]}"
    insert_rows(
        MeetingOccurrence,
        source=f"virtualmeeting_virtualmeeting AS m JOIN seminars_session AS s ON s.id = m.id"
        f" WHERE m.finish < now() AND NOT ({unpolled})",
        values={
            "meeting_id": "m.id",
            "provider": "'zoom'",
            "uuid": "md5('occurrence' || m.id)",
            "started_at": "m.start",
            "ended_at": "m.finish",
            "next_poll_at": f"CASE WHEN {poll} THEN now() - interval '1 minute' END",
            "poll_attempts": f"CASE WHEN {poll} THEN 2 ELSE 1 END",
            "participants_done_at": f"CASE WHEN {poll} THEN NULL ELSE m.finish + interval '5 minutes' END",
            "recordings_done_at": f"CASE WHEN {poll} THEN NULL ELSE m.finish + interval '5 minutes' END",
        },
    )
