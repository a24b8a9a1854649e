"""Who may read the sign-ups and attendance reports and export them: role x report x (page, CSV).

The course's trainers, editing trainers and site admins; a learner of the course gets 403, anyone
outside it 404 (the course is not revealed), anonymous users go to the login page.
"""

import pytest
from django.urls import reverse

from seminars.models import Booking, Course, Enrolment
from seminars.tests.conftest import enrol, make_user

ROLES = ["anonymous", "outsider", "learner", "trainer", "editing_trainer", "site_admin"]
EXPECTED = {
    "anonymous": 302,
    "outsider": 404,
    "learner": 403,
    "trainer": 200,
    "editing_trainer": 200,
    "site_admin": 200,
}
ROUTES = [
    "event_report",
    "event_report_csv",
    "seminar_report",
    "seminar_report_csv",
    "course_report",
    "course_report_csv",
]


@pytest.fixture
def targets(event, seminar, course):
    return {"event": event, "seminar": seminar, "course": course}


def report_url(route, targets):
    return reverse(f"seminars:{route}", args=[targets[route.split("_")[0]].pk])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_report_access(client, request, targets, route, role, learner2):
    Booking.objects.create(event=targets["event"], user=learner2)
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    response = client.get(report_url(route, targets))
    assert response.status_code == EXPECTED[role], f"{role} on {route}"
    if EXPECTED[role] == 302:
        assert response["Location"].startswith(reverse("login"))
    if EXPECTED[role] == 200:
        body = b"".join(response.streaming_content) if route.endswith("_csv") else response.content
        assert b"leo@example.com" in body


@pytest.mark.parametrize("route", ROUTES)
def test_a_trainer_of_another_course_sees_nothing(client, targets, route):
    stranger = make_user("stella")
    enrol(stranger, Course.objects.create(name="Other course"), Enrolment.Role.EDITING_TRAINER)
    client.force_login(stranger)
    assert client.get(report_url(route, targets)).status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_a_missing_report_is_404(client, site_admin, route):
    client.force_login(site_admin)
    assert client.get(reverse(f"seminars:{route}", args=[999999])).status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_reports_are_read_only(client, trainer, targets, route):
    client.force_login(trainer)
    assert client.post(report_url(route, targets)).status_code == 405
