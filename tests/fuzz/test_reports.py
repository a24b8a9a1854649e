"""The reports under any query string: 200 (a report) or 400 (the filters' messages next to their
fields), never a server error, never a write; the CSV too."""

from datetime import date

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Booking
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, rolled_back, send
from tests.fuzz.strategies import hostile_date_text, hostile_int_text, hostile_pk, hostile_text, mutated

STAFF = ["trainer", "editor", "admin"]
ROUTES = {
    "event_report": "event",
    "event_report_csv": "event",
    "seminar_report": "seminar",
    "seminar_report_csv": "seminar",
    "course_report": "course",
    "course_report_csv": "course",
}
SORTS = ["learner", "username", "email", "event", "start", "state", "signed_up", "changed"]

day_text = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    hostile_date_text,
)


def query_fields(scene) -> dict:
    return {
        "state": st.one_of(
            st.lists(st.sampled_from(Booking.State.values), max_size=4), st.lists(hostile_text, max_size=3)
        ),
        "start_from": day_text,
        "start_to": day_text,
        "event": st.one_of(st.sampled_from(scene.ids["event"]).map(str), hostile_pk().map(str), hostile_int_text),
        "q": hostile_text,
        "sort": st.one_of(st.sampled_from(SORTS), st.sampled_from(SORTS).map("-{}".format), hostile_text),
        "page": hostile_int_text,
        "stray": hostile_text,
    }


def report_url(scene, route):
    target = {"event": scene.event, "seminar": scene.seminar, "course": scene.course}[ROUTES[route]]
    return reverse(f"seminars:{route}", args=[target.pk])


@fuzzes(*(f"seminars:{route}" for route in ROUTES))
@fuzz_settings(80)
@given(data=st.data(), route=st.sampled_from(list(ROUTES)), actor=st.sampled_from(STAFF))
def test_report_query_strings(scene, data, route, actor):
    baseline = {
        "state": ["booked", "waitlisted"],
        "start_from": "2000-01-01",
        "start_to": "2100-12-31",
        "q": "le",
        "sort": "-start",
        "page": "1",
    }
    if ROUTES[route] != "event":
        baseline["event"] = str(scene.event.pk)
    query = data.draw(st.one_of(mutated(baseline, query_fields(scene)), st.just(baseline)))
    with rolled_back():
        client = client_for(scene.users()[actor])
        response = check(lambda: send(client, "GET", report_url(scene, route), query), may_write=lambda r: False)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
            assert body.startswith(b"\xef\xbb\xbf")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.context["form"].errors
        assert b'class="errorlist' in response.content


@fuzzes(*(f"seminars:{route}" for route in ROUTES))
@fuzz_settings(20)
@given(
    route=st.sampled_from(list(ROUTES)),
    actor=st.sampled_from(["anonymous", "outsider", "learner", "trainer"]),
    query=st.dictionaries(hostile_text, hostile_text, max_size=3),
)
def test_reports_of_other_courses_and_strangers(scene, route, actor, query):
    """Any query, from anyone: only the course's staff read its reports."""
    with rolled_back():
        client = client_for(scene.users()[actor])
        own = check(lambda: send(client, "GET", report_url(scene, route), query), may_write=lambda r: False)
    if actor != "trainer":
        assert own.status_code in (302, 400, 403, 404)  # 400: a query too long for Django itself


def test_the_report_baseline_is_accepted(scene):
    client = client_for(scene.trainer)
    response = send(client, "GET", report_url(scene, "course_report"), {"state": "booked", "sort": "-start"})
    assert response.status_code == 200
    assert [row.booking.state for row in response.context["report"].rows] == ["booked", "booked"]
