"""The login form: hostile usernames, passwords and `next`; a failure is counted (that write is the point)."""

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import fuzz_settings, fuzzes, post_form
from tests.fuzz.strategies import form_data, hostile_text

LOGIN = {"username": "lena", "password": "correct horse battery staple", "next": "/courses/"}
LOGIN_FIELDS = {
    "username": st.one_of(st.sampled_from(["lena", "LENA", "lena@example.com", "admin"]), hostile_text),
    "password": hostile_text,
    "next": st.one_of(
        st.sampled_from(["/courses/", "//evil.example.com/", "https://evil.example.com/", "profile", "/\\evil.com"]),
        hostile_text,
    ),
}
# django-axes records each failed attempt: the one write a refused login is meant to make.
FAILURE_RECORDS = ("axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog")


@fuzzes("login")
@fuzz_settings(25)
@given(data=form_data(LOGIN, LOGIN_FIELDS))
def test_login(scene, data):
    response = post_form(None, reverse("login"), data, exclude=FAILURE_RECORDS)
    if response.status_code == 302:
        assert url_has_allowed_host_and_scheme(response.url, allowed_hosts={"testserver"}), "stays on the site"


def test_the_login_baseline_is_accepted(scene, client):
    response = client.post(reverse("login"), LOGIN)
    assert response.status_code == 302
    assert response.url == "/courses/"
