"""Course, seminar, participant and profile forms under hostile input."""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Enrolment
from tests.fuzz.harness import client_for, fuzz_settings, fuzzes, post_form, send
from tests.fuzz.strategies import form_data, hostile_bool_text, hostile_int_text, hostile_text, hostile_zone

COURSE = {
    "name": "Fire safety",
    "short_name": "FS-1",
    "summary": "All about it.\r\nBring boots.",
    "allow_self_enrolment": "on",
}
COURSE_FIELDS = {
    "name": hostile_text,
    "short_name": hostile_text,
    "summary": hostile_text,
    "allow_self_enrolment": hostile_bool_text,
}
SEMINAR = {
    "name": "Evacuation drill",
    "description": "Where to meet.\nWho counts.",
    "attended_percent": "80",
    "reminder_offsets": "24, 1",
}
SEMINAR_FIELDS = {
    "name": hostile_text,
    "description": hostile_text,
    "attended_percent": hostile_int_text,
    "reminder_offsets": hostile_text,
}
ROLES = [role for role, _ in Enrolment.Role.choices]
role_value = st.one_of(st.sampled_from(ROLES), hostile_text)
ENROL = {"user": "otto", "role": Enrolment.Role.LEARNER}
ENROL_FIELDS = {
    "user": st.one_of(st.sampled_from(["otto", "OTTO", "otto@example.com", "lena", "edna", "admin"]), hostile_text),
    "role": role_value,
}


@fuzzes("seminars:course_add")
@fuzz_settings(20)
@given(data=form_data(COURSE, COURSE_FIELDS))
def test_course_add(scene, data):
    post_form(scene.admin, reverse("seminars:course_add"), data)


@fuzzes("seminars:course_edit")
@fuzz_settings(15)
@given(data=form_data(COURSE, COURSE_FIELDS))
def test_course_edit(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:course_edit", args=[scene.course.pk]),
        data,
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:seminar_add")
@fuzz_settings(15)
@given(data=form_data(SEMINAR, SEMINAR_FIELDS))
def test_seminar_add(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:seminar_add", args=[scene.course.pk]),
        data,
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:seminar_edit")
@fuzz_settings(15)
@given(data=form_data(SEMINAR, SEMINAR_FIELDS))
def test_seminar_edit(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:seminar_edit", args=[scene.seminar.pk]),
        data,
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:participants")
@fuzz_settings(20)
@given(data=form_data(ENROL, ENROL_FIELDS))
def test_participants_enrol(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:participants", args=[scene.course.pk]),
        data,
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:participant_role")
@fuzz_settings(15)
@given(data=form_data({"role": Enrolment.Role.TRAINER}, {"role": role_value}))
def test_participant_role(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:participant_role", args=[scene.course.pk, scene.learner_enrolment.pk]),
        data,
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:profile")
@fuzz_settings(20)
@given(data=form_data({"time_zone": "Europe/London"}, {"time_zone": hostile_zone}))
def test_profile(scene, data):
    post_form(scene.learner, reverse("seminars:profile"), data)


# --- The valid data the mutations start from is accepted (so they reach every check) ----------------

BASELINES = [
    ("admin", "seminars:course_add", lambda s: [], COURSE),
    ("editor", "seminars:course_edit", lambda s: [s.course.pk], COURSE),
    ("editor", "seminars:seminar_add", lambda s: [s.course.pk], SEMINAR),
    ("editor", "seminars:seminar_edit", lambda s: [s.seminar.pk], SEMINAR),
    ("editor", "seminars:participants", lambda s: [s.course.pk], ENROL),
    ("editor", "seminars:participant_role", lambda s: [s.course.pk, s.learner_enrolment.pk], {"role": "trainer"}),
    ("learner", "seminars:profile", lambda s: [], {"time_zone": "Europe/London"}),
]


@pytest.mark.parametrize(("who", "route", "args", "data"), BASELINES, ids=[b[1] for b in BASELINES])
def test_the_baseline_is_accepted(scene, who, route, args, data):
    response = send(client_for(scene.users()[who]), "POST", reverse(route, args=args(scene)), data)
    assert response.status_code == 302
    assert not response.context, "redirected after saving, not shown again"
