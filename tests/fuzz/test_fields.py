"""Each field of each form on its own: the form's valid data with that one field hostile.

The other tests break one to three fields drawn from all of a form's fields, which reaches mixes
but may leave one field (the capacity among an event editor's thirty) with few hostile values.
Here every field gets its own examples, the rest of the form staying valid, so the checks behind
the field (the service, the database) meet every hostile value the strategies hold.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import test_attendance, test_courses, test_events, test_login, test_virtualmeeting
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, rolled_back, send
from tests.fuzz.strategies import hostile_text

NEW_ROOM = {
    "mode": "new",
    "name": "Pop-up",
    "capacity": 5,
    "description": "",
    "virtual_kind": "custom",
    "virtual_url": "https://meet.example.com/y",
}


@dataclass(frozen=True)
class Form:
    route: str
    actor: str  # who sends it: a name of Scene.users()
    args: Callable  # scene -> the route's arguments
    baseline: Callable  # scene -> data the endpoint accepts
    fields: Callable  # scene -> {field name: strategy of hostile values}
    names: tuple[str, ...]  # the fields broken one at a time
    method: str = "POST"
    exclude: tuple[str, ...] = ()  # tables a refusal may write by design

    def url(self, scene) -> str:
        return reverse(self.route, args=self.args(scene))


def _event_baseline(scene, *, editing: bool) -> dict:
    ids = [str(pk) for pk in scene.event.sessions.order_by("start").values_list("pk", flat=True)] if editing else []
    rows = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "time_zone": "Europe/London", "room": NEW_ROOM},
        {
            "start": "2030-06-11T09:00",
            "finish": "2030-06-11T10:00",
            "time_zone": "Asia/Tokyo",
            "room": {"mode": "site", "id": scene.site_room.pk, "name": scene.site_room.name},
        },
    ]
    rows = [
        {**row, "id": ids[index] if index < len(ids) else "", "room": json.dumps(row["room"])}
        for index, row in enumerate(rows)
    ]
    return test_events.editor_data(rows, initial=len(ids))


def _event_fields(scene) -> dict:
    return {**test_events.EVENT_FIELDS, **test_events.row_fields(scene, 0)}


EVENT_NAMES = (*test_events.EVENT_FIELDS, *(f"sessions-0-{name}" for name in test_events.ROW_FIELD_NAMES))


def _constant(value):
    return lambda scene: value


FORMS = [
    Form(
        "seminars:course_add",
        "admin",
        _constant([]),
        _constant(test_courses.COURSE),
        _constant(test_courses.COURSE_FIELDS),
        tuple(test_courses.COURSE_FIELDS),
    ),
    Form(
        "seminars:course_edit",
        "editor",
        lambda s: [s.course.pk],
        _constant(test_courses.COURSE),
        _constant(test_courses.COURSE_FIELDS),
        tuple(test_courses.COURSE_FIELDS),
    ),
    Form(
        "seminars:seminar_add",
        "editor",
        lambda s: [s.course.pk],
        _constant(test_courses.SEMINAR),
        _constant(test_courses.SEMINAR_FIELDS),
        tuple(test_courses.SEMINAR_FIELDS),
    ),
    Form(
        "seminars:seminar_edit",
        "editor",
        lambda s: [s.seminar.pk],
        _constant(test_courses.SEMINAR),
        _constant(test_courses.SEMINAR_FIELDS),
        tuple(test_courses.SEMINAR_FIELDS),
    ),
    Form(
        "seminars:participants",
        "editor",
        lambda s: [s.course.pk],
        _constant(test_courses.ENROL),
        _constant(test_courses.ENROL_FIELDS),
        tuple(test_courses.ENROL_FIELDS),
    ),
    Form(
        "seminars:event_add",
        "editor",
        lambda s: [s.seminar.pk],
        lambda s: _event_baseline(s, editing=False),
        _event_fields,
        EVENT_NAMES,
    ),
    Form(
        "seminars:event_edit",
        "editor",
        lambda s: [s.event.pk],
        lambda s: _event_baseline(s, editing=True),
        _event_fields,
        EVENT_NAMES,
    ),
    Form(
        "seminars:site_room_add",
        "admin",
        _constant([]),
        _constant(test_events.SITE_ROOM),
        _constant(test_events.SITE_ROOM_FIELDS),
        tuple(test_events.SITE_ROOM_FIELDS),
    ),
    Form(
        "seminars:site_room_edit",
        "admin",
        lambda s: [s.site_room.pk],
        _constant(test_events.SITE_ROOM),
        _constant(test_events.SITE_ROOM_FIELDS),
        tuple(test_events.SITE_ROOM_FIELDS),
    ),
    Form(
        "seminars:rooms_available",
        "editor",
        _constant([]),
        lambda s: {
            "start": "2030-06-10T09:00",
            "finish": "2030-06-10T11:00",
            "zone": "Europe/London",
            "event": s.event.pk,
        },
        lambda s: test_events.rooms_available_fields(s),
        ("start", "finish", "zone", "event"),
        method="GET",
    ),
    Form(
        "seminars:session_participant_match",
        "trainer",
        lambda s: [s.started_session.pk],
        lambda s: {**test_attendance.MATCH, "match": str(s.started_booking.pk)},
        test_attendance.match_fields,
        ("occurrence", "participant_key", "match", "undo"),
    ),
    Form(
        "seminars:booking_cancel",
        "learner",
        lambda s: [s.booking.pk],
        _constant({"reason": "I am ill that week.\nSorry."}),
        _constant({"reason": hostile_text}),
        ("reason",),
    ),
    Form(
        "seminars:event_cancel",
        "editor",
        lambda s: [s.event.pk],
        _constant({"reason": "The trainer is ill."}),
        _constant({"reason": hostile_text}),
        ("reason",),
    ),
    Form(
        "virtualmeeting:settings",
        "admin",
        _constant(["zoom"]),
        _constant(test_virtualmeeting.ZOOM_SETTINGS),
        _constant(test_virtualmeeting.ZOOM_SETTINGS_FIELDS),
        tuple(test_virtualmeeting.ZOOM_SETTINGS_FIELDS),
    ),
    Form(
        "login",
        "anonymous",
        _constant([]),
        _constant(test_login.LOGIN),
        _constant(test_login.LOGIN_FIELDS),
        tuple(test_login.LOGIN_FIELDS),
        exclude=test_login.FAILURE_RECORDS,
    ),
]
CASES = [(form, name) for form in FORMS for name in form.names]


@st.composite
def one_field_broken(draw, baseline: dict, name: str, strategy) -> dict:
    data = dict(baseline)
    action = draw(st.sampled_from(["value", "value", "value", "value", "drop", "repeat"]))
    if action == "drop":
        data.pop(name, None)
    elif action == "repeat":
        data[name] = draw(st.lists(strategy, min_size=2, max_size=3))
    else:
        data[name] = draw(strategy)
    return data


@fuzzes(*{form.route for form in FORMS})
@pytest.mark.parametrize(("form", "name"), CASES, ids=[f"{form.route}:{name}" for form, name in CASES])
@fuzz_settings(4)
@given(data=st.data())
def test_one_field_hostile(scene, form, name, data):
    fields = form.fields(scene)
    sent = data.draw(one_field_broken(form.baseline(scene), name, fields[name]), label=name)
    with rolled_back():
        client = client_for(scene.users()[form.actor])
        check(
            lambda: send(client, form.method, form.url(scene), sent),
            may_write=lambda response: form.method == "POST",
            exclude=form.exclude,
            untouchable=scene.other_course_rows() if form.actor != "admin" else (),
        )


@pytest.mark.parametrize("form", FORMS, ids=[form.route for form in FORMS])
def test_the_valid_data_is_accepted(scene, form):
    """So that breaking one field is the only reason for a refusal."""
    response = send(client_for(scene.users()[form.actor]), form.method, form.url(scene), form.baseline(scene))
    if form.method == "GET":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, "redirected after saving, not shown again"
