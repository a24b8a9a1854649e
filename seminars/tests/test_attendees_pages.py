"""The attendees page: who may use it, the list preview and confirm, remove, move; constant queries."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from seminars.models import Booking, BookingStateChange, SeminarEvent
from seminars.services.bookings import booking_create
from seminars.tests.conftest import enrol, make_session, make_user

State = Booking.State
STAFF = ["site_admin", "editing_trainer", "trainer"]


@pytest.fixture
def as_user(client, request):
    def login(name):
        if name == "anonymous":
            return None
        user = request.getfixturevalue(name)
        client.force_login(user)
        return user

    return login


@pytest.fixture
def other_event(seminar, event):
    other = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake", capacity=5)
    make_session(other, event.sessions.get().start + timedelta(days=1))
    return other


def routes(event, booking, other_event):
    return {
        "page": ("get", reverse("seminars:event_attendees", args=[event.pk]), {}),
        "preview": ("post", reverse("seminars:attendees_preview", args=[event.pk]), {"text": "leo"}),
        "add": ("post", reverse("seminars:attendees_add", args=[event.pk]), {"add": "0"}),
        "remove": ("post", reverse("seminars:attendee_remove", args=[booking.pk]), {"reason": "r"}),
        "move": (
            "post",
            reverse("seminars:attendee_move", args=[booking.pk]),
            {"reason": "r", "to_event": other_event.pk},
        ),
    }


EXPECTED = {
    # role: status of page, preview, add (of nobody: back to the page), remove, move
    "site_admin": [200, 200, 302, 302, 302],
    "editing_trainer": [200, 200, 302, 302, 302],
    "trainer": [200, 200, 302, 302, 302],
    "learner": [403, 403, 403, 403, 403],
    "outsider": [404, 404, 404, 404, 404],
}


@pytest.mark.parametrize("role", [*EXPECTED, "anonymous"])
def test_permission_matrix(client, as_user, role, event, other_event, learner, learner2):
    booking = booking_create(event=event, user=learner, actor=learner)
    as_user(role)
    for index, (method, url, data) in enumerate(routes(event, booking, other_event).values()):
        response = getattr(client, method)(url, data)
        if role == "anonymous":
            assert response.status_code == 302 and reverse("login") in response["Location"], url
        else:
            assert response.status_code == EXPECTED[role][index], (role, url)
    booking.refresh_from_db()
    if role in STAFF:
        assert booking.state == State.USER_CANCELLED  # removed (the move then found it inactive)
    else:
        assert booking.state == State.BOOKED
        assert not Booking.objects.filter(user=learner2).exists()


def test_the_event_page_links_staff_to_the_attendees_page(client, as_user, event, learner):
    url = reverse("seminars:event_attendees", args=[event.pk])
    as_user("trainer")
    assert url in client.get(event.get_absolute_url()).content.decode()
    client.force_login(learner)
    assert url not in client.get(event.get_absolute_url()).content.decode()


def test_preview_then_confirm_adds_the_list(client, as_user, event, learner, learner2):
    as_user("trainer")
    response = client.post(reverse("seminars:attendees_preview", args=[event.pk]), {"text": "lena\nnobody\nleo\n"})
    html = response.content.decode()
    assert "Will be booked" in html and "No user with this username or email." in html
    assert not Booking.objects.exists()
    adds = [f"{learner.pk}:book", f"{learner2.pk}:book"]
    response = client.post(reverse("seminars:attendees_add", args=[event.pk]), {"add": adds}, follow=True)
    assert "2 learners booked" in response.content.decode()
    assert set(Booking.objects.values_list("user__username", "state")) == {("lena", "booked"), ("leo", "booked")}


def test_confirm_is_refused_when_the_event_changed(client, as_user, event, learner, learner2, course):
    event.capacity = 1
    event.save()
    as_user("trainer")
    third = enrol(make_user("lia"), course).user
    booking_create(event=event, user=third, actor=third)
    response = client.post(
        reverse("seminars:attendees_add", args=[event.pk]), {"add": [f"{learner.pk}:book"]}, follow=True
    )
    assert "changed since the preview" in response.content.decode()
    assert not Booking.objects.filter(user=learner).exists()


def test_a_csv_file_with_bom_and_accents_is_read(client, as_user, event, course):
    zoe = enrol(make_user("zoe"), course).user
    zoe.email = "zoé@example.com"
    zoe.save()
    as_user("trainer")
    upload = SimpleUploadedFile("list.csv", "\ufeffemail;name\nZOÉ@example.com;Zoé\n".encode(), "text/csv")
    response = client.post(reverse("seminars:attendees_preview", args=[event.pk]), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Will be booked" in html and "ZOÉ@example.com" in html


def test_a_file_not_in_utf8_is_refused_at_the_field(client, as_user, event):
    as_user("trainer")
    upload = SimpleUploadedFile("list.csv", "zoé".encode("latin-1"), "text/csv")
    response = client.post(reverse("seminars:attendees_preview", args=[event.pk]), {"file": upload})
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


def test_an_empty_list_is_refused(client, as_user, event):
    as_user("trainer")
    response = client.post(reverse("seminars:attendees_preview", args=[event.pk]), {"text": "  "})
    assert response.status_code == 400
    assert "Paste usernames or emails" in response.content.decode()


def test_only_admins_see_book_over_capacity(client, as_user, event):
    url = reverse("seminars:event_attendees", args=[event.pk])
    as_user("trainer")
    assert "Book over capacity" not in client.get(url).content.decode()
    as_user("site_admin")
    assert "Book over capacity" in client.get(url).content.decode()


def test_remove_and_move_with_a_reason(client, as_user, event, other_event, learner, learner2):
    mine = booking_create(event=event, user=learner, actor=learner)
    theirs = booking_create(event=event, user=learner2, actor=learner2)
    as_user("trainer")
    client.post(reverse("seminars:attendee_remove", args=[mine.pk]), {"reason": ""})
    mine.refresh_from_db()
    assert mine.state == State.BOOKED
    client.post(reverse("seminars:attendee_remove", args=[mine.pk]), {"reason": "Left the company"})
    client.post(reverse("seminars:attendee_move", args=[theirs.pk]), {"reason": "Shift", "to_event": other_event.pk})
    mine.refresh_from_db()
    assert mine.state == State.USER_CANCELLED
    assert Booking.objects.get(event=other_event, user=learner2).state == State.BOOKED
    reasons = set(BookingStateChange.objects.exclude(reason="").values_list("reason", "changed_by__username"))
    assert reasons == {("Left the company", "tom"), ("Shift", "tom")}


def test_a_site_admin_moves_over_capacity_only_when_ticked_and_a_trainer_never(
    client, as_user, event, other_event, learner, learner2, learner3
):
    other_event.capacity = 1
    other_event.save()
    booking_create(event=other_event, user=learner3, actor=learner3)
    mine = booking_create(event=event, user=learner, actor=learner)
    theirs = booking_create(event=event, user=learner2, actor=learner2)
    move = {"reason": "Shift", "to_event": other_event.pk}

    as_user("trainer")
    assert (
        'name="over_capacity"' not in client.get(reverse("seminars:event_attendees", args=[event.pk])).content.decode()
    )
    client.post(reverse("seminars:attendee_move", args=[mine.pk]), {**move, "over_capacity": "on"})
    assert not Booking.objects.filter(event=other_event, user=learner).exists()

    as_user("site_admin")
    assert 'name="over_capacity"' in client.get(reverse("seminars:event_attendees", args=[event.pk])).content.decode()
    client.post(reverse("seminars:attendee_move", args=[theirs.pk]), move)
    assert not Booking.objects.filter(event=other_event, user=learner2).exists()
    client.post(reverse("seminars:attendee_move", args=[theirs.pk]), {**move, "over_capacity": "on"})
    assert Booking.objects.get(event=other_event, user=learner2).state == State.BOOKED
    assert other_event.bookings.filter(state=State.BOOKED).count() == 2


def test_the_add_one_search_adds_a_learner(client, as_user, event, learner):
    as_user("trainer")
    html = client.get(reverse("seminars:event_attendees", args=[event.pk]), {"q": "lena"}).content.decode()
    assert "Add Lena" in html
    client.post(reverse("seminars:attendees_add", args=[event.pk]), {"add": str(learner.pk)})
    assert Booking.objects.get(user=learner).state == State.BOOKED


@pytest.mark.parametrize("count", [3, 15])
def test_the_page_and_the_preview_ask_a_constant_number_of_queries(
    client, as_user, event, other_event, course, count, django_assert_max_num_queries
):
    event.capacity = 100
    event.save()
    people = [enrol(make_user(f"p{i}"), course).user for i in range(count)]
    for person in people[: count // 2]:
        booking_create(event=event, user=person, actor=person)
    as_user("trainer")
    # Without Redis (a local SQLite run) the session itself is one more query, on every page alike.
    session_read = 0 if settings.SESSION_ENGINE == "lms.sessions" else 1
    with django_assert_max_num_queries(14 + session_read):
        client.get(reverse("seminars:event_attendees", args=[event.pk]), {"q": "p"})
    text = "\n".join(p.username for p in people) + "\nnobody\n"
    with django_assert_max_num_queries(16 + session_read):
        response = client.post(reverse("seminars:attendees_preview", args=[event.pk]), {"text": text})
    assert response.status_code == 200


def test_an_editing_trainer_enrols_and_adds_from_the_search(client, as_user, event, outsider, course):
    url = reverse("seminars:event_attendees", args=[event.pk])
    as_user("trainer")
    assert "Enrol Otto" not in client.get(url, {"q": "otto"}).content.decode()
    as_user("editing_trainer")
    assert "Enrol Otto as a learner and add" in client.get(url, {"q": "otto"}).content.decode()
    client.post(reverse("seminars:attendees_add", args=[event.pk]), {"add": str(outsider.pk), "enrol": "on"})
    assert Booking.objects.get(user=outsider).state == State.BOOKED
    assert course.enrolments.get(user=outsider).role == "learner"
