"""Sign-ups and attendance reports (issue 10, "Reports"): rows, summary, filters, sorting, paging,
the CSV of exactly what is filtered, links, and a constant number of queries at two sizes."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars.models import Booking, BookingStateChange, Profile, SeminarEvent, Session, SessionAttendance
from seminars.selectors.reports import ReportFilters, Scope, report_bookings, report_page, report_scope
from seminars.tests.conftest import enrol, make_user
from seminars.tests.report_scene import CANCEL_REASON, FORMULA_NAME, NOW, build_report_scene


@pytest.fixture
def rs(time_machine, course, seminar, trainer):
    time_machine.move_to(NOW, tick=False)
    return build_report_scene(course=course, seminar=seminar, trainer=trainer)


@pytest.fixture
def viewer(client, trainer):
    """The trainer, reading times in New York."""
    Profile.objects.create(user=trainer, time_zone="America/New_York")
    client.force_login(trainer)
    return client


def text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").replace("&quot;", '"')


def usernames(response) -> list[str]:
    return [row.booking.user.username for row in response.context["report"].rows]


def download(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def url(name, obj, **query):
    from urllib.parse import urlencode

    return reverse(f"seminars:{name}", args=[obj.pk]) + ("?" + urlencode(query, doseq=True) if query else "")


# --- Rows and summary ------------------------------------------------------------------------------


def test_event_report_rows_show_each_booking_with_its_history_reason_and_attendance(rs, viewer):
    response = viewer.get(url("event_report", rs.spring))
    assert response.status_code == 200
    assert usernames(response) == ["zoe", "leo", "formula"]  # by first session, then signup
    rows = {row.booking.user.username: row for row in response.context["report"].rows}
    leo = rows["leo"]
    assert leo.booking.state == Booking.State.USER_CANCELLED
    assert leo.reason == CANCEL_REASON
    assert leo.last_change.changed_by == rs.leo
    assert rows["zoe"].last_change.changed_by == rs.trainer
    assert [result.state for result in rows["zoe"].sessions] == [Booking.State.FULLY_ATTENDED, ""]
    assert rows["zoe"].event_result is None  # the second session is not set yet
    page = text(response)
    assert CANCEL_REASON in page
    assert "2030-06-10 04:00" in page  # 09:00 in London is 04:00 in New York
    assert "Fully attended (55 min)" in page
    assert "Not set" in page


def test_the_event_result_is_the_bookings_own_once_taken_else_from_every_session(rs, viewer):
    zoe = rs.bookings[("zoe", "Spring intake")]
    SessionAttendance.objects.create(booking=zoe, session=rs.spring_sessions[1], state=Booking.State.NO_SHOW, minutes=0)
    rows = {r.booking.user.username: r for r in viewer.get(url("event_report", rs.spring)).context["report"].rows}
    assert rows["zoe"].event_result == Booking.State.PARTIALLY_ATTENDED
    assert rows["leo"].event_result is None  # cancelled: no seat, no attendance
    Booking.objects.filter(pk=zoe.pk).update(state=Booking.State.NO_SHOW)
    rows = {r.booking.user.username: r for r in viewer.get(url("event_report", rs.spring)).context["report"].rows}
    assert rows["zoe"].event_result == Booking.State.NO_SHOW
    assert rows["zoe"].event_result_label == "No show"


def test_the_summary_counts_every_state_of_every_page_and_the_attendance_rate(rs, viewer):
    Booking.objects.filter(pk=rs.bookings[("zoe", "Spring intake")].pk).update(state=Booking.State.FULLY_ATTENDED)
    Booking.objects.filter(pk=rs.bookings[("formula", "Spring intake")].pk).update(state=Booking.State.NO_SHOW)
    response = viewer.get(url("seminar_report", rs.seminar))
    summary = response.context["report"].summary
    assert summary.total == 4
    assert summary.count(Booking.State.BOOKED) == 1
    assert summary.count(Booking.State.USER_CANCELLED) == 1
    assert (summary.attended, summary.attendance_taken, summary.attendance_rate) == (1, 2, 50)
    assert [value for value, _label, _n in summary.counts] == Booking.State.values  # every state, in order
    page = text(response)
    assert "4 sign-ups" in page
    assert "Attendance rate: 50% (1 of 2 attended)" in page


def test_no_attendance_taken_says_so_instead_of_a_rate(rs, viewer):
    assert "Attendance rate: not taken yet" in text(viewer.get(url("event_report", rs.spring)))


def test_seminar_and_course_reports_cover_their_events_and_never_another_course(rs, viewer):
    seminar = viewer.get(url("seminar_report", rs.seminar))
    assert sorted(usernames(seminar)) == ["formula", "lena", "leo", "zoe"]
    course = viewer.get(url("course_report", rs.course))
    assert sorted(usernames(course)) == ["formula", "lena", "lena", "leo", "zoe"]
    assert "olga" not in course.content.decode()


# --- Filters -----------------------------------------------------------------------------------------


def test_filter_by_several_states(rs, viewer):
    response = viewer.get(url("course_report", rs.course, state=["user_cancelled", "booked"], sort="username"))
    assert usernames(response) == ["formula", "lena", "lena", "leo", "zoe"]
    response = viewer.get(url("course_report", rs.course, state=["user_cancelled"]))
    assert usernames(response) == ["leo"]
    assert response.context["report"].summary.total == 1


def test_every_booking_state_is_offered_as_a_filter(rs, viewer):
    form = viewer.get(url("event_report", rs.spring)).context["form"]
    assert [value for value, _label in form.fields["state"].choices] == Booking.State.values


def test_filter_by_event_on_the_course_report_offers_only_the_courses_events(rs, viewer):
    response = viewer.get(url("course_report", rs.course, event=rs.summer.pk))
    assert usernames(response) == ["lena"]
    html = response.content.decode()
    assert f'<option value="{rs.summer.pk}" selected>First aid – Summer course</option>' in html
    assert f'<option value="{rs.spring.pk}">Fire wardens – Spring intake</option>' in html
    assert re.search(r'<select [^>]*id="id_event"', html)
    choices = [value for value, _label in response.context["form"].fields["event"].choices]
    assert choices == ["", str(rs.spring.pk), str(rs.late.pk), str(rs.summer.pk)] or set(choices) == {
        "",
        str(rs.spring.pk),
        str(rs.late.pk),
        str(rs.summer.pk),
    }
    refused = viewer.get(url("course_report", rs.course, event=rs.other_event.pk))
    assert refused.status_code == 400
    assert "Select a valid choice" in text(refused)


def test_the_event_report_has_no_event_filter(rs, viewer):
    assert "event" not in viewer.get(url("event_report", rs.spring)).context["form"].fields


@pytest.mark.parametrize(
    ("zone", "day", "found"),
    [
        # Late intake starts at 23:30 UTC on 10 June: 11 June 08:30 in Tokyo, 10 June 19:30 in New York.
        ("Asia/Tokyo", "2030-06-11", True),
        ("Asia/Tokyo", "2030-06-10", False),
        ("America/New_York", "2030-06-10", True),
        ("America/New_York", "2030-06-11", False),
    ],
)
def test_the_date_range_is_whole_days_in_the_viewers_zone(rs, client, trainer, zone, day, found):
    Profile.objects.create(user=trainer, time_zone=zone)
    client.force_login(trainer)
    response = client.get(url("seminar_report", rs.seminar, start_from=day, start_to=day))
    assert ("lena" in usernames(response)) is found


def test_the_date_range_bounds_are_inclusive_on_both_sides(rs, viewer):
    # Spring intake starts on 10 June (New York); Summer course on 1 July.
    assert sorted(set(usernames(viewer.get(url("course_report", rs.course, start_from="2030-06-10"))))) == [
        "formula",
        "lena",
        "leo",
        "zoe",
    ]
    assert "lena" in usernames(viewer.get(url("course_report", rs.course, start_from="2030-07-01")))
    assert usernames(viewer.get(url("course_report", rs.course, start_from="2030-07-02"))) == []
    assert set(usernames(viewer.get(url("course_report", rs.course, start_to="2030-06-09")))) == set()
    assert "zoe" in usernames(viewer.get(url("course_report", rs.course, start_to="2030-06-10")))


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start_from": "2030-06-12", "start_to": "2030-06-10"}, "start_to", "The last day must be on or after"),
        ({"start_from": "0001-01-01"}, "start_from", "Enter a date between the years 2000 and 2100."),
        ({"start_to": "9999-12-31"}, "start_to", "Enter a date between the years 2000 and 2100."),
        ({"start_from": "not a date"}, "start_from", "Enter a valid date."),
        ({"state": "nonsense"}, "state", "Select a valid choice."),
        ({"q": "x" * 101}, "q", "Ensure this value has at most 100 characters"),
    ],
)
def test_bad_filters_are_refused_with_a_message_next_to_the_field_and_no_rows(rs, viewer, query, field, message):
    for name in ("event_report", "event_report_csv"):
        response = viewer.get(url(name, rs.spring, **query))
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors[field])
        assert message in text(response).replace("’", "'")
        assert "report" not in response.context
        assert "Correct the filters above to see the report." in text(response)


def test_search_matches_words_of_the_name_username_or_email(rs, viewer):
    assert usernames(viewer.get(url("course_report", rs.course, q="Zoé Ærø"))) == [
        "zoe"
    ]  # (SQLite folds the case of ASCII only)
    assert usernames(viewer.get(url("course_report", rs.course, q="LEO@example"))) == ["leo"]
    assert usernames(viewer.get(url("course_report", rs.course, q="%"))) == []
    assert usernames(viewer.get(url("course_report", rs.course, q="zoe brandt"))) == []


# --- Sorting and paging ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "ascending", "descending"),
    [
        # Zoé Ærø is left out: where "Æ" sorts depends on the database's collation.
        ("learner", ["lena", "lena", "leo", "formula"], ["formula", "leo", "lena", "lena"]),
        ("username", ["formula", "lena", "lena", "leo", "zoe"], ["zoe", "leo", "lena", "lena", "formula"]),
        ("email", ["formula", "lena", "lena", "leo", "zoe"], ["zoe", "leo", "lena", "lena", "formula"]),
        # Booked before Cancelled (Booking.State's order, not the codes'); ties by booking.
        ("state", ["zoe", "formula", "lena", "lena", "leo"], ["leo", "zoe", "formula", "lena", "lena"]),
        # Fire wardens (Late intake, Spring intake), then First aid.
        ("event", ["lena", "zoe", "leo", "formula", "lena"], ["lena", "zoe", "leo", "formula", "lena"]),
        ("start", ["zoe", "leo", "formula", "lena", "lena"], ["lena", "lena", "zoe", "leo", "formula"]),
        # Everyone signed up at the same frozen moment: the booking breaks the tie both ways.
        ("signed_up", ["zoe", "leo", "formula", "lena", "lena"], ["zoe", "leo", "formula", "lena", "lena"]),
    ],
)
def test_sorting_by_each_main_column_both_ways(rs, viewer, sort, ascending, descending):
    def sorted_by(value):
        return [
            name for name in usernames(viewer.get(url("course_report", rs.course, sort=value))) if name in ascending
        ]

    assert sorted_by(sort) == ascending
    assert sorted_by(f"-{sort}") == descending


def test_event_sort_descending_puts_the_last_seminar_first(rs, viewer):
    events = [
        row.booking.event.name
        for row in viewer.get(url("course_report", rs.course, sort="-event")).context["report"].rows
    ]
    assert events == ["Summer course", "Spring intake", "Spring intake", "Spring intake", "Late intake"]


def test_the_sort_headings_link_the_other_way_round_for_the_current_column(rs, viewer):
    html = viewer.get(url("course_report", rs.course, sort="username", state="booked")).content.decode()
    assert 'aria-sort="ascending"><a href="?sort=-username&amp;state=booked"' in html or (
        'aria-sort="ascending"><a href="?state=booked&amp;sort=-username"' in html
    )


def test_ties_are_broken_by_the_booking_so_pages_never_repeat_or_skip(rs, viewer, course):
    for number in range(97):
        user = enrol(make_user(f"same{number}"), course).user
        Booking.objects.create(event=rs.summer, user=user, created_at=NOW)
    seen = []
    for page in (1, 2, 3):
        response = viewer.get(url("course_report", rs.course, sort="signed_up", page=page))
        seen += [row.booking.pk for row in response.context["report"].rows]
    assert len(seen) == len(set(seen)) == 102
    ids = list(Booking.objects.filter(event__seminar__course=rs.course).values_list("pk", flat=True))
    assert sorted(seen) == sorted(ids)


def test_an_unknown_sort_is_the_default(rs, viewer):
    assert usernames(viewer.get(url("course_report", rs.course, sort="user__password"))) == usernames(
        viewer.get(url("course_report", rs.course))
    )


def test_paging_keeps_the_filters_and_a_bad_page_number_shows_the_first_or_last_page(rs, client, trainer, course):
    for number in range(55):
        user = User.objects.create(username=f"bulk{number:02}", first_name="Bulk")
        Booking.objects.create(event=rs.summer, user=user, state=Booking.State.WAITLISTED)
    client.force_login(trainer)
    query = {"state": "waitlisted", "sort": "username"}
    first = client.get(url("course_report", rs.course, **query))
    assert len(first.context["report"].rows) == 50
    assert first.context["report"].summary.total == 55
    html = first.content.decode()
    assert "state=waitlisted&amp;sort=username&amp;page=2" in html
    last = client.get(url("course_report", rs.course, page="2", **query))
    assert usernames(last) == [f"bulk{n:02}" for n in range(50, 55)]
    for page, expected in [("999999999999999999999", 2), ("abc", 1), ("-1", 2), ("0", 2), ("", 1)]:
        response = client.get(url("course_report", rs.course, page=page, **query))
        assert response.status_code == 200
        assert response.context["report"].page.number == expected, page


# --- CSV -------------------------------------------------------------------------------------------


def test_the_csv_is_exactly_the_filtered_rows_of_every_page_in_the_same_order(rs, viewer):
    for number in range(60):
        user = User.objects.create(username=f"bulk{number:02}", first_name="Bulk")
        Booking.objects.create(event=rs.summer, user=user, state=Booking.State.WAITLISTED)
    query = {"state": ["waitlisted", "user_cancelled"], "sort": "-username"}
    rows = download(viewer.get(url("course_report_csv", rs.course, **query)))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Learner", "Username", "Email"]
    expected = list(
        Booking.objects.filter(event__seminar__course=rs.course, state__in=query["state"])
        .order_by("-user__username", "pk")
        .values_list("user__username", flat=True)
    )
    assert [row[1] for row in body] == expected
    assert len(expected) == 61


def test_the_csv_keeps_accents_neutralises_formulas_and_carries_every_column(rs, viewer):
    response = viewer.get(url("event_report_csv", rs.spring))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="report-fire-wardens-spring-intake-2030-06-01\.csv"', response["Content-Disposition"]
    )
    rows = download(response)
    by_user = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_user["zoe"]["Learner"] == "Zoé Ærø"
    assert by_user["formula"]["Learner"] == "'" + FORMULA_NAME + " Smith"
    assert by_user["leo"]["Reason"] == CANCEL_REASON
    assert by_user["leo"]["State"] == "Cancelled"
    assert by_user["leo"]["Changed by"] == "Leo Brandt"
    assert by_user["zoe"]["First session (America/New_York)"] == "2030-06-10 04:00"
    assert by_user["zoe"]["Attendance per session (America/New_York)"] == (
        "2030-06-10 04:00 Fully attended (55 min); 2030-06-11 04:00 Not set"
    )
    assert by_user["zoe"]["Event attendance"] == ""
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_reason_that_looks_like_a_formula_is_neutralised_too(rs, viewer):
    BookingStateChange.objects.filter(reason=CANCEL_REASON).update(reason="-1+2 @ noon")
    rows = download(viewer.get(url("event_report_csv", rs.spring)))
    assert "'-1+2 @ noon" in [cell for row in rows for cell in row]


# --- Links -----------------------------------------------------------------------------------------


def test_the_reports_are_linked_for_staff_only(rs, client, trainer, learner3):
    client.force_login(trainer)
    pages = {
        reverse("seminars:event", args=[rs.spring.pk]): url("event_report", rs.spring),
        reverse("seminars:event_attendees", args=[rs.spring.pk]): url("event_report", rs.spring),
        reverse("seminars:seminar", args=[rs.seminar.pk]): url("seminar_report", rs.seminar),
        reverse("seminars:course", args=[rs.course.pk]): url("course_report", rs.course),
    }
    for page, report in pages.items():
        assert report in client.get(page).content.decode(), page
    client.force_login(learner3)
    for page, report in list(pages.items())[2:]:
        assert report not in client.get(page).content.decode(), page


def test_the_event_report_links_each_sessions_sign_in_sheet_and_the_csv_with_the_filters(rs, viewer):
    html = viewer.get(url("event_report", rs.spring, state="booked", page="1")).content.decode()
    for session in rs.spring_sessions:
        assert reverse("seminars:session_attendance", args=[session.pk]) in html
    assert url("event_report_csv", rs.spring) + "?state=booked" in html


def test_other_reports_link_each_event_to_its_own_report(rs, viewer):
    html = viewer.get(url("seminar_report", rs.seminar)).content.decode()
    assert url("event_report", rs.spring) in html
    assert url("event_report", rs.late) in html


# --- A constant number of queries --------------------------------------------------------------------


def populate(course, *, events: int, sessions: int, per_event: int):
    """`events` events of `sessions` sessions with `per_event` bookings each, every one with a history
    row by a trainer, a reason, and attendance in each session."""
    from seminars.models import Seminar

    seminar = Seminar.objects.create(course=course, name=f"Bulk {events}")
    staff = make_user(f"staff{events}")
    start = datetime(2030, 6, 20, 9, 0, tzinfo=UTC)
    for number in range(events):
        event = SeminarEvent.objects.create(seminar=seminar, name=f"E{number}", capacity=per_event)
        made = [
            Session.objects.create(
                event=event,
                start=start + timedelta(days=number, hours=h),
                finish=start + timedelta(days=number, hours=h + 1),
            )
            for h in range(sessions)
        ]
        for index in range(per_event):
            user = User.objects.create(username=f"u{events}-{number}-{index}", first_name="Ann", last_name="Lee")
            booking = Booking.objects.create(event=event, user=user, state=Booking.State.USER_CANCELLED)
            BookingStateChange.objects.create(
                booking=booking, state=Booking.State.USER_CANCELLED, changed_by=staff, reason="Because"
            )
            for session in made:
                SessionAttendance.objects.create(booking=booking, session=session, state=Booking.State.NO_SHOW)
    return seminar


def _read(response):
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def queries_of(client, path) -> int:
    _read(client.get(path))  # warm caches (the session, the site's settings, the viewer's facts)
    with CaptureQueriesContext(connection) as captured:
        response = _read(client.get(path))
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["course_report", "course_report_csv"])
def test_a_report_runs_the_same_number_of_queries_at_two_sizes(client, course, trainer, name):
    Profile.objects.create(user=trainer, time_zone="Europe/London")
    client.force_login(trainer)
    small = populate(course, events=2, sessions=1, per_event=3)
    counts = [queries_of(client, url(name, course, sort="-changed"))]
    populate(course, events=8, sessions=3, per_event=25)  # 200 more bookings: four pages, one CSV chunk
    counts.append(queries_of(client, url(name, course, sort="-changed")))
    counts.append(queries_of(client, url(name.replace("course", "seminar"), small, state="user_cancelled")))
    assert counts[0] == counts[1], counts
    assert Booking.objects.count() == 206


def test_the_csv_reads_in_chunks_of_a_fixed_number_of_queries(client, course, trainer, settings):
    from seminars.selectors import reports

    client.force_login(trainer)
    populate(course, events=2, sessions=2, per_event=5)
    one_chunk = queries_of(client, url("course_report_csv", course))
    original = reports.CSV_CHUNK
    reports.CSV_CHUNK = 4
    try:
        three_chunks = queries_of(client, url("course_report_csv", course))
    finally:
        reports.CSV_CHUNK = original
    assert three_chunks == one_chunk + 2 * 6  # six queries per further chunk of rows


def test_report_page_reads_one_page_of_rows(rs):
    scope = report_scope(kind=Scope.COURSE, pk=rs.course.pk)
    report = report_page(report_bookings(scope, ReportFilters(), zone="UTC"), page=1, per_page=2)
    assert len(report.rows) == 2
    assert report.summary.total == 5
    assert report.page.paginator.num_pages == 3


def test_approval_requests_and_declines_are_reported_with_the_reason(rs, viewer, course):
    """The states the approval work added appear by themselves (the filter and summary iterate
    Booking.State), and a decline's reason shows like a cancellation's."""
    from seminars.models import Seminar
    from seminars.services.approvals import booking_request_decline
    from seminars.services.bookings import booking_create

    Seminar.objects.filter(pk=rs.other_seminar.pk).update(approval_type=Seminar.ApprovalType.TRAINER)
    nina, omar = (enrol(make_user(name), course).user for name in ("nina", "omar"))
    declined = booking_create(event=rs.summer, user=nina, actor=nina)
    booking_create(event=rs.summer, user=omar, actor=omar)
    booking_request_decline(booking=declined, actor=rs.trainer, reason="The course is for wardens only")

    response = viewer.get(url("course_report", rs.course, state=["declined", "requested"], sort="username"))
    assert usernames(response) == ["nina", "omar"]
    rows = response.context["report"].rows
    assert rows[0].reason == "The course is for wardens only"
    assert rows[0].last_change.changed_by == rs.trainer
    summary = response.context["report"].summary
    assert (summary.count(Booking.State.DECLINED), summary.count(Booking.State.REQUESTED)) == (1, 1)
    csv_rows = download(viewer.get(url("course_report_csv", rs.course, state="declined")))
    assert [(row[1], row[6], row[10]) for row in csv_rows[1:]] == [
        ("nina", "Declined", "The course is for wardens only")
    ]


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # New York is UTC-4 in June: its 1 June begins at 04:00 UTC.
        (datetime(2030, 6, 1, 3, 59, 59, tzinfo=UTC), "2030-05-31"),
        (datetime(2030, 6, 1, 4, 0, tzinfo=UTC), "2030-06-01"),
    ],
)
def test_the_csv_is_named_with_the_day_in_the_viewers_zone(rs, viewer, time_machine, moment, day):
    time_machine.move_to(moment, tick=False)
    response = viewer.get(url("seminar_report_csv", rs.seminar))
    assert response["Content-Disposition"] == f'attachment; filename="report-fire-wardens-{day}.csv"'
