"""The permission matrix for the course pages: role x page, checked on the server.

Anonymous visitors are sent to log in; people outside a course get 404 (they
learn nothing of it); learners get 403 on every editing page.
"""

import pytest
from django.urls import reverse

from seminars.models import Course, Enrolment, Seminar

ROLES = ["anonymous", "outsider", "learner", "trainer", "editing_trainer", "site_admin"]

LOGIN = "login"

# page -> expected status per role, in ROLES order.
MATRIX = {
    "dashboard": [LOGIN, 200, 200, 200, 200, 200],
    "courses": [LOGIN, 200, 200, 200, 200, 200],
    "profile": [LOGIN, 200, 200, 200, 200, 200],
    "notifications": [LOGIN, 200, 200, 200, 200, 200],
    "course": [LOGIN, 404, 200, 200, 200, 200],
    "seminar": [LOGIN, 404, 200, 200, 200, 200],
    "participants": [LOGIN, 404, 403, 200, 200, 200],
    "course_edit": [LOGIN, 404, 403, 403, 200, 200],
    "seminar_add": [LOGIN, 404, 403, 403, 200, 200],
    "seminar_edit": [LOGIN, 404, 403, 403, 200, 200],
    "seminar_delete": [LOGIN, 404, 403, 403, 200, 200],
    "course_delete": [LOGIN, 404, 403, 403, 403, 200],
    "course_add": [LOGIN, 403, 403, 403, 403, 200],
}


def _url(page, course, seminar):
    if page in {"course", "participants", "course_edit", "course_delete"}:
        return reverse(f"seminars:{page}", args=[course.pk])
    if page == "seminar_add":
        return reverse("seminars:seminar_add", args=[course.pk])
    if page in {"seminar", "seminar_edit", "seminar_delete"}:
        return reverse(f"seminars:{page}", args=[seminar.pk])
    return reverse(f"seminars:{page}")


@pytest.fixture
def as_role(request, client, course, seminar):
    """Log the client in as the named member of the cast (nobody for "anonymous")."""

    def login(role):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return login


@pytest.mark.parametrize("page", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(as_role, course, seminar, page, role):
    client = as_role(role)
    expected = MATRIX[page][ROLES.index(role)]
    url = _url(page, course, seminar)

    response = client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    else:
        assert response.status_code == expected, f"{role} on {page}"


EDIT_POSTS = {
    "course_edit": {"name": "Renamed", "short_name": "", "summary": ""},
    "seminar_add": {"name": "Sneaky seminar", "description": ""},
    "seminar_edit": {"name": "Renamed", "description": ""},
    "seminar_delete": {},
    "course_delete": {},
}


@pytest.mark.parametrize("page", sorted(EDIT_POSTS))
@pytest.mark.parametrize("role,status", [("outsider", 404), ("learner", 403), ("trainer", 403)])
def test_editing_posts_are_refused_and_change_nothing(as_role, course, seminar, page, role, status):
    client = as_role(role)

    response = client.post(_url(page, course, seminar), EDIT_POSTS[page])

    assert response.status_code == status
    course.refresh_from_db()
    assert course.name == "Safety training"
    assert list(Seminar.objects.values_list("name", flat=True)) == ["Fire wardens"]


@pytest.mark.parametrize("role,status", [("outsider", 404), ("learner", 403), ("trainer", 403)])
def test_participant_changes_are_refused(as_role, course, learner2, role, status):
    client = as_role(role)
    enrolment = Enrolment.objects.get(user=learner2, course=course)

    enrol = client.post(reverse("seminars:participants", args=[course.pk]), {"user": "otto", "role": "learner"})
    change = client.post(
        reverse("seminars:participant_role", args=[course.pk, enrolment.pk]), {"role": "editingtrainer"}
    )
    remove = client.post(reverse("seminars:participant_remove", args=[course.pk, enrolment.pk]))

    assert (enrol.status_code, change.status_code, remove.status_code) == (status, status, status)
    enrolment.refresh_from_db()
    assert enrolment.role == Enrolment.Role.LEARNER
    assert course.enrolments.count() == Enrolment.objects.filter(course=course).count()
    assert not Enrolment.objects.filter(course=course, user__username="otto").exists()


def test_outsider_cannot_self_enrol_in_a_closed_course(client, course, outsider):
    client.force_login(outsider)

    response = client.post(reverse("seminars:self_enrol", args=[course.pk]))

    assert response.status_code == 404
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_self_enrol_needs_post(client, outsider):
    open_course = Course.objects.create(name="Open", allow_self_enrolment=True)
    client.force_login(outsider)

    assert client.get(reverse("seminars:self_enrol", args=[open_course.pk])).status_code == 405
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_outsider_does_not_see_the_course_in_the_list(client, course, outsider):
    client.force_login(outsider)

    response = client.get(reverse("seminars:courses"))

    assert course.name not in response.content.decode()


def test_learner_sees_no_editing_links(client, course, seminar, learner):
    client.force_login(learner)

    course_page = client.get(reverse("seminars:course", args=[course.pk])).content.decode()
    seminar_page = client.get(reverse("seminars:seminar", args=[seminar.pk])).content.decode()

    assert "Add an activity" not in course_page
    assert "Edit settings" not in course_page
    assert "Participants" not in course_page
    assert "Add event" not in seminar_page
    assert "Edit seminar" not in seminar_page


def test_editing_trainer_sees_editing_links(client, course, seminar, editing_trainer):
    client.force_login(editing_trainer)

    course_page = client.get(reverse("seminars:course", args=[course.pk])).content.decode()
    seminar_page = client.get(reverse("seminars:seminar", args=[seminar.pk])).content.decode()

    assert "Add an activity" in course_page
    assert reverse("seminars:seminar_add", args=[course.pk]) in course_page
    assert "Delete course" not in course_page  # site admins only
    assert "Add event" in seminar_page
    assert f"/seminars/{seminar.pk}/events/add/" in seminar_page


def test_site_admins_are_superusers_or_staff_with_the_permission(db, django_assert_num_queries):
    from django.contrib.auth.models import Permission

    from seminars.permissions import is_site_admin
    from seminars.tests.conftest import make_site_admin, make_user

    assert is_site_admin(make_site_admin("sam"))
    not_staff = make_user("nina")
    not_staff.user_permissions.add(Permission.objects.get(codename="manage_site"))
    assert not is_site_admin(not_staff)
    learner = make_user("lee")
    with django_assert_num_queries(0):  # a learner's pages do not pay for loading permissions
        assert not is_site_admin(learner)
