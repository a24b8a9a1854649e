"""The permission matrix of the email template pages: role x page and role x action, checked on the server.

The site's templates are for site admins only; a seminar's copies and switches for those who may
edit the seminar (editing trainers of its course and site admins). Outsiders learn nothing of a
seminar (404); anonymous visitors are sent to log in.
"""

import pytest
from django.urls import reverse

from seminars.models import EmailTemplate, SeminarEmailOff

ROLES = ["anonymous", "outsider", "learner", "trainer", "editing_trainer", "site_admin"]
LOGIN = "login"

SITE = [LOGIN, 403, 403, 403, 403, 200]
SEMINAR = [LOGIN, 404, 403, 403, 200, 200]

MATRIX = {
    "email_templates": SITE,
    "email_template_edit": SITE,
    "email_template_reset": SITE,
    "seminar_emails": SEMINAR,
    "seminar_email_edit": SEMINAR,
    "seminar_email_reset": SEMINAR,
}


def _url(page, seminar):
    if page == "email_templates":
        return reverse("seminars:email_templates")
    if page.startswith("email_template"):
        return reverse(f"seminars:{page}", args=["booked"])
    if page == "seminar_emails":
        return reverse("seminars:seminar_emails", args=[seminar.pk])
    return reverse(f"seminars:{page}", args=[seminar.pk, "booked"])


@pytest.fixture
def as_role(request, client, course, seminar, learner, trainer, editing_trainer):
    def login(role):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return login


def _expect(response, expected, what):
    if expected == LOGIN:
        assert response.status_code == 302, what
        assert response["Location"].startswith(reverse("login") + "?next="), what
    else:
        assert response.status_code == expected, what


@pytest.mark.parametrize("page", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(as_role, seminar, page, role):
    _expect(as_role(role).get(_url(page, seminar)), MATRIX[page][ROLES.index(role)], f"{role} on {page}")


SAVE = {"subject": "Sneaky {event_name}", "body": "Sneaky", "action": "save"}


@pytest.mark.parametrize("role", ROLES)
def test_saving_the_site_template(as_role, seminar, role):
    expected = SITE[ROLES.index(role)]
    response = as_role(role).post(reverse("seminars:email_template_edit", args=["booked"]), SAVE)
    _expect(response, 302 if expected == 200 else expected, role)
    assert EmailTemplate.objects.filter(seminar=None).exists() == (role == "site_admin")


@pytest.mark.parametrize("role", ROLES)
def test_resetting_the_site_template(as_role, seminar, site_admin, role):
    EmailTemplate.objects.create(email_type="booked", subject="Edited", body="Edited", updated_by=site_admin)
    response = as_role(role).post(reverse("seminars:email_template_reset", args=["booked"]))
    expected = SITE[ROLES.index(role)]
    _expect(response, 302 if expected == 200 else expected, role)
    assert EmailTemplate.objects.exists() == (role != "site_admin")


@pytest.mark.parametrize("role", ROLES)
def test_a_seminar_copy_reset_and_switch(as_role, seminar, role):
    client = as_role(role)
    expected = SEMINAR[ROLES.index(role)]
    allowed = expected == 200
    post_expected = 302 if allowed else expected

    response = client.post(reverse("seminars:seminar_email_edit", args=[seminar.pk, "booked"]), SAVE)
    _expect(response, post_expected, f"{role} saves a copy")
    assert EmailTemplate.objects.filter(seminar=seminar).exists() == allowed

    response = client.post(reverse("seminars:seminar_email_switch", args=[seminar.pk, "booked"]), {"on": "0"})
    _expect(response, post_expected, f"{role} switches off")
    assert SeminarEmailOff.objects.filter(seminar=seminar).exists() == allowed

    EmailTemplate.objects.get_or_create(email_type="booked", seminar=seminar, defaults={"subject": "x", "body": "y"})
    response = client.post(reverse("seminars:seminar_email_reset", args=[seminar.pk, "booked"]))
    _expect(response, post_expected, f"{role} resets")
    assert EmailTemplate.objects.filter(seminar=seminar).exists() == (not allowed)


def test_the_switch_is_a_post(as_role, seminar):
    response = as_role("site_admin").get(reverse("seminars:seminar_email_switch", args=[seminar.pk, "booked"]))
    assert response.status_code == 405


def test_a_seminar_of_another_course_is_out_of_an_editing_trainers_reach(as_role, seminar, editing_trainer):
    from seminars.models import Course, Seminar

    other = Seminar.objects.create(course=Course.objects.create(name="Finance"), name="Budgets")
    client = as_role("editing_trainer")
    assert client.get(reverse("seminars:seminar_emails", args=[other.pk])).status_code == 404
    response = client.post(reverse("seminars:seminar_email_edit", args=[other.pk, "booked"]), SAVE)
    assert response.status_code == 404
    assert not EmailTemplate.objects.exists()


def test_site_wide_emails_and_unknown_ones_have_no_seminar_page(as_role, seminar):
    client = as_role("site_admin")
    assert (
        client.get(reverse("seminars:seminar_email_edit", args=[seminar.pk, "connection_revoked"])).status_code == 404
    )
    assert client.get(reverse("seminars:email_template_edit", args=["no_such_email"])).status_code == 404


def test_a_mandatory_email_cannot_be_switched_off(as_role, seminar):
    response = as_role("site_admin").post(
        reverse("seminars:seminar_email_switch", args=[seminar.pk, "event_cancelled"]), {"on": "0"}, follow=True
    )
    assert "cannot be switched off" in response.content.decode()
    assert not SeminarEmailOff.objects.exists()
