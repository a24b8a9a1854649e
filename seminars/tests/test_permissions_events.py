"""Who may open the event editor, cancel/delete pages, the room page and site-room management.

Course pages: a user not enrolled gets 404 (the course is not revealed), an
enrolled user without the editing role gets 403. Site-room management is for
site admins only (403 for everyone else). Anonymous users go to the login page.
"""

import re
import uuid

import pytest
import responses
from django.urls import reverse

from seminars.models import Booking, Course, Enrolment, EventTrainer, Room, SeminarEvent
from seminars.tests.conftest import enrol, event_post_data, make_user
from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.tests.conftest import API, OAUTH
from virtualmeeting_zoom.tests.fake_zoom import FakeZoom

ROLES = ["anonymous", "outsider", "learner", "trainer", "editing_trainer", "site_admin"]

COURSE_EDIT = {
    "anonymous": 302,
    "outsider": 404,
    "learner": 403,
    "trainer": 403,
    "editing_trainer": 200,
    "site_admin": 200,
}
SITE_ADMIN_ONLY = {
    "anonymous": 302,
    "outsider": 403,
    "learner": 403,
    "trainer": 403,
    "editing_trainer": 403,
    "site_admin": 200,
}
ADHOC_ROOM_VIEW = {
    "anonymous": 302,
    "outsider": 404,
    "learner": 200,
    "trainer": 200,
    "editing_trainer": 200,
    "site_admin": 200,
}
# Editing trainers of any course (here, of this one) and site admins.
EVENT_EDITORS = {
    "anonymous": 302,
    "outsider": 403,
    "learner": 403,
    "trainer": 403,
    "editing_trainer": 200,
    "site_admin": 200,
}
SITE_ROOM_VIEW = {
    "anonymous": 302,
    "outsider": 200,
    "learner": 200,
    "trainer": 200,
    "editing_trainer": 200,
    "site_admin": 200,
}


@pytest.fixture
def as_role(client, request):
    def login(role):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return login


@pytest.fixture
def zoom_account(settings):
    """The site's Zoom account, stubbed: one active user (Alice); nobody else has a user there."""
    settings.ZOOM_OAUTH_BASE_URL = OAUTH
    settings.ZOOM_API_BASE_URL = API
    settings.VIRTUALMEETING = {"PROVIDERS": ["virtualmeeting_zoom.provider.ZoomProvider"]}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    ProviderConfig.objects.update_or_create(
        provider="zoom",
        defaults={
            "enabled": True,
            "hosting": "account",
            "account_id": "AcCoUnT-1",
            "account_client_id": "s2sClientId",
            "account_client_secret": "s2s-secret",
            "options": {"create_per_second": 1000, "light_per_second": 1000},
        },
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        FakeZoom(mocked)
        alice = {"id": "aLiCe-1", "email": "alice@example.com", "first_name": "Alice", "type": 1, "status": "active"}
        mocked.get(f"{API}/users", json={"next_page_token": "", "users": [alice]})
        mocked.get(re.compile(rf"{re.escape(API)}/users/[^/]+$"), status=404, json={"code": 1001, "message": "No."})
        yield mocked


@pytest.fixture
def pages(seminar, event, site_room, zoom_account):
    adhoc = Room.objects.create(name="Pop-up", capacity=4, event=event)
    available = reverse("seminars:rooms_available") + "?start=2030-06-10T09:00&finish=2030-06-10T10:00&zone=UTC"
    return {
        "event_add": (reverse("seminars:event_add", args=[seminar.pk]), COURSE_EDIT),
        "event_edit": (reverse("seminars:event_edit", args=[event.pk]), COURSE_EDIT),
        "event_cancel": (reverse("seminars:event_cancel", args=[event.pk]), COURSE_EDIT),
        "event_delete": (reverse("seminars:event_delete", args=[event.pk]), COURSE_EDIT),
        "rooms_available_for_event": (f"{available}&event={event.pk}", COURSE_EDIT),
        "rooms_available": (available, EVENT_EDITORS),
        "account_users": (reverse("seminars:account_users") + "?provider=zoom&q=ali", EVENT_EDITORS),
        "adhoc_room": (reverse("seminars:room", args=[adhoc.pk]), ADHOC_ROOM_VIEW),
        "site_room": (reverse("seminars:room", args=[site_room.pk]), SITE_ROOM_VIEW),
        "site_rooms": (reverse("seminars:site_rooms"), SITE_ADMIN_ONLY),
        "site_room_add": (reverse("seminars:site_room_add"), SITE_ADMIN_ONLY),
        "site_room_edit": (reverse("seminars:site_room_edit", args=[site_room.pk]), SITE_ADMIN_ONLY),
        "site_room_delete": (reverse("seminars:site_room_delete", args=[site_room.pk]), SITE_ADMIN_ONLY),
    }


PAGES = [
    "event_add",
    "event_edit",
    "event_cancel",
    "event_delete",
    "rooms_available_for_event",
    "rooms_available",
    "account_users",
    "adhoc_room",
    "site_room",
    "site_rooms",
    "site_room_add",
    "site_room_edit",
    "site_room_delete",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_page_access(as_role, pages, page, role):
    url, expected = pages[page]
    response = as_role(role).get(url)
    assert response.status_code == expected[role], f"{role} on {page}"
    if page == "account_users" and response.status_code == 200:
        assert [user["email"] for user in response.json()["users"]] == ["alice@example.com"]
    if expected[role] == 302:
        assert response["Location"].startswith(reverse("login"))


def test_an_editing_trainer_of_another_course_may_ask_which_rooms_are_free(client, event):
    stranger = make_user("stella")
    enrol(stranger, Course.objects.create(name="Other course"), Enrolment.Role.EDITING_TRAINER)
    client.force_login(stranger)
    available = reverse("seminars:rooms_available") + "?start=2030-06-10T09:00&finish=2030-06-10T10:00&zone=UTC"
    assert client.get(available).status_code == 200
    assert client.get(f"{available}&event={event.pk}").status_code == 404


def test_an_editing_trainer_of_another_course_sees_nothing(client, event, seminar):
    stranger = make_user("stella")
    enrol(stranger, Course.objects.create(name="Other course"), Enrolment.Role.EDITING_TRAINER)
    client.force_login(stranger)
    assert client.get(reverse("seminars:event_edit", args=[event.pk])).status_code == 404
    assert client.get(reverse("seminars:event_add", args=[seminar.pk])).status_code == 404


@pytest.mark.parametrize("role", ["outsider", "learner", "trainer"])
def test_posting_to_the_editor_without_rights_changes_nothing(as_role, seminar, event, role):
    client = as_role(role)
    before = SeminarEvent.objects.count()
    response = client.post(reverse("seminars:event_add", args=[seminar.pk]), event_post_data(name="Intruder"))
    assert response.status_code in (403, 404)
    response = client.post(reverse("seminars:event_edit", args=[event.pk]), event_post_data(name="Intruder"))
    assert response.status_code in (403, 404)
    assert SeminarEvent.objects.count() == before
    event.refresh_from_db()
    assert event.name == "Spring intake"


@pytest.mark.parametrize("role", ["outsider", "learner", "trainer"])
def test_cancelling_or_deleting_without_rights_changes_nothing(as_role, event, learner2, role):
    booking = Booking.objects.create(event=event, user=learner2, state=Booking.State.BOOKED)
    client = as_role(role)
    assert client.post(reverse("seminars:event_cancel", args=[event.pk])).status_code in (403, 404)
    assert client.post(reverse("seminars:event_delete", args=[event.pk])).status_code in (403, 404)
    event.refresh_from_db()
    booking.refresh_from_db()
    assert not event.cancelled
    assert booking.state == Booking.State.BOOKED


@pytest.mark.parametrize("role", ["outsider", "learner", "editing_trainer"])
def test_only_site_admins_change_site_rooms(as_role, site_room, role):
    client = as_role(role)
    fields = {"name": "Renamed", "capacity": "3", "virtual_kind": ""}
    assert client.post(reverse("seminars:site_room_add"), fields).status_code == 403
    assert client.post(reverse("seminars:site_room_edit", args=[site_room.pk]), fields).status_code == 403
    assert client.post(reverse("seminars:site_room_delete", args=[site_room.pk])).status_code == 403
    site_room.refresh_from_db()
    assert site_room.name == "Training room 1"
    assert Room.objects.count() == 1


def test_the_editor_links_to_cancel_and_delete(as_role, event):
    html = as_role("editing_trainer").get(reverse("seminars:event_edit", args=[event.pk])).content.decode()
    assert reverse("seminars:event_cancel", args=[event.pk]) in html
    assert reverse("seminars:event_delete", args=[event.pk]) in html


# ---- Trainers of an event ----------------------------------------------------------------------

ASSIGN_TRAINERS = {
    "anonymous": 302,
    "outsider": 404,
    "learner": 403,
    "trainer": 403,
    "editing_trainer": 302,
    "site_admin": 302,
}
SEES_EVENT_TRAINERS = {
    "anonymous": False,
    "outsider": False,
    "learner": True,
    "trainer": True,
    "editing_trainer": True,
    "site_admin": True,
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_assign_the_events_trainers(as_role, event, trainer, role):
    session = event.sessions.get()
    data = event_post_data(
        sessions=[{"id": session.pk, "start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"}],
        initial_forms=1,
        **{f"trainer_{trainer.pk}": "facilitator"},
    )
    response = as_role(role).post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == ASSIGN_TRAINERS[role], role
    assigned = list(EventTrainer.objects.filter(event=event).values_list("user", "role"))
    assert assigned == ([(trainer.pk, "facilitator")] if ASSIGN_TRAINERS[role] == 302 and role != "anonymous" else [])


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_the_events_trainers(as_role, event, trainer, role):
    EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.FACILITATOR)
    response = as_role(role).get(reverse("seminars:event", args=[event.pk]))
    assert ("Tom (Facilitator)" in response.content.decode()) is SEES_EVENT_TRAINERS[role], role


def test_being_assigned_gives_no_right_beyond_the_course_role(client, event, trainer):
    EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.TRAINER)
    client.force_login(trainer)
    assert client.get(reverse("seminars:event_edit", args=[event.pk])).status_code == 403
    assert client.get(reverse("seminars:event_cancel", args=[event.pk])).status_code == 403
