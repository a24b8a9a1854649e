"""The cast and the scenery shared by the seminar tests."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User

from seminars.models import Course, Enrolment, Seminar, SeminarEvent, Session
from seminars.services.bookings import booking_create
from seminars.tests.meeting_scene import enable_test_provider, held_session
from virtualmeeting.providers.base import ConnectedAccount
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.services import connection_save

PASSWORD = "correct horse battery staple"


def make_user(username, **extra):
    user = User.objects.create_user(username, email=f"{username}@example.com", password=PASSWORD, **extra)
    user.first_name = username.capitalize()
    user.save(update_fields=["first_name"])
    return user


def make_site_admin(username="admin"):
    user = make_user(username, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)  # fresh instance: permission cache empty


def enrol(user, course, role=Enrolment.Role.LEARNER):
    return Enrolment.objects.create(user=user, course=course, role=role)


def make_session(event, start, minutes=60, zone="UTC", room=None):
    """`start` is naive local time in `zone` (or aware); stored in UTC."""
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(zone))
    return Session.objects.create(
        event=event, start=start, finish=start + timedelta(minutes=minutes), time_zone=zone, room=room
    )


@pytest.fixture
def course(db):
    return Course.objects.create(name="Safety training", short_name="SAFE")


@pytest.fixture
def site_admin(db):
    return make_site_admin()


@pytest.fixture
def editing_trainer(course):
    user = make_user("edna")
    enrol(user, course, Enrolment.Role.EDITING_TRAINER)
    return user


@pytest.fixture
def trainer(course):
    user = make_user("tom")
    enrol(user, course, Enrolment.Role.TRAINER)
    return user


@pytest.fixture
def learner(course):
    user = make_user("lena")
    enrol(user, course, Enrolment.Role.LEARNER)
    return user


@pytest.fixture
def learner2(course):
    user = make_user("leo")
    enrol(user, course, Enrolment.Role.LEARNER)
    return user


@pytest.fixture
def outsider(db):
    return make_user("otto")


@pytest.fixture
def seminar(course):
    return Seminar.objects.create(course=course, name="Fire wardens", description="How to lead an evacuation.")


@pytest.fixture
def event(seminar, editing_trainer):
    """An event with one one-hour session a week ahead (London time)."""
    ev = SeminarEvent.objects.create(seminar=seminar, name="Spring intake", capacity=2, created_by=editing_trainer)
    soon = datetime.now(ZoneInfo("Europe/London")).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    make_session(ev, soon.replace(tzinfo=None), zone="Europe/London")
    return ev


# --- The event editor and rooms -------------------------------------------------


def event_post_data(*, sessions=(), initial_forms=0, **event_fields):
    """POST data of the event editor: event fields, then one row per session.

    Each session is a dict with start, finish (local "YYYY-MM-DDTHH:MM"), zone,
    and optionally id, room (a dict, sent as the row's JSON room choice) and delete.
    """
    import json

    data = {
        "name": "Spring intake",
        "details": "",
        "capacity": "10",
        "cancellation_policy": "cutoff",
        "cancellation_cutoff_hours": "24",
        "sessions-TOTAL_FORMS": str(len(sessions)),
        "sessions-INITIAL_FORMS": str(initial_forms),
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000",
    }
    data.update({key: str(value) for key, value in event_fields.items()})
    for index, session in enumerate(sessions):
        prefix = f"sessions-{index}-"
        data[prefix + "start"] = session["start"]
        data[prefix + "finish"] = session["finish"]
        data[prefix + "time_zone"] = session.get("zone", "UTC")
        data[prefix + "id"] = session.get("id", "")
        data[prefix + "room"] = json.dumps(session["room"]) if session.get("room") else ""
        if session.get("delete"):
            data[prefix + "DELETE"] = "on"
    return data


@pytest.fixture
def site_room(db):
    from seminars.models import Room

    return Room.objects.create(name="Training room 1", capacity=20, description="Ground floor, by the lifts.")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The cast logs in with real passwords; a fast hasher keeps the many role x page tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def field_error(html: str, field: str) -> str:
    """The error text shown in the .form-row of `field` (the row holding its input), or ""."""
    for chunk in html.split('<div class="form-row')[1:]:
        row = chunk.split("</form>")[0]
        if f'name="{field}"' in row:
            errors = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', row, re.S)
            return re.sub(r"<[^>]+>", " ", errors.group(1)).strip() if errors else ""
    raise AssertionError(f"no form row for {field!r}")


@pytest.fixture
def learner3(course):
    return enrol(make_user("lia"), course).user


@pytest.fixture
def as_user(client, request):
    """Log the client in as one of the cast, by fixture name; returns the user."""

    def login(name):
        user = request.getfixturevalue(name)
        client.force_login(user)
        return user

    return login


# --- Attendance: the event's one session, two bookings, and the clock after it ---------------------


@pytest.fixture
def session(event):
    return event.sessions.get()


@pytest.fixture
def bookings(event, learner, learner2):
    """Lena's and Leo's bookings (by username), made before the event starts."""
    event.capacity = 5
    event.save()
    return {user.username: booking_create(event=event, user=user, actor=user) for user in (learner, learner2)}


@pytest.fixture
def started(session, time_machine):
    """The clock half an hour after the session ended: its attendance can be proposed and confirmed."""
    time_machine.move_to(session.finish + timedelta(minutes=30))


# --- Virtual meetings: the test provider, a trainer's connection, a held meeting --------------------


@pytest.fixture
def test_provider(settings, db):
    """The framework's test provider, the only one and enabled, with a clean slate before and after."""
    enable_test_provider(settings)
    yield TestProvider
    TestProvider.reset()


def connect(user, scopes="meeting:write"):
    """`user`'s connection to the test provider (account acct-<username>) granting `scopes`."""
    return connection_save(
        user=user,
        provider="test",
        account=ConnectedAccount(
            remote_account_id=f"acct-{user.username}",
            name=user.first_name,
            email=user.email,
            access_token="access",
            refresh_token="refresh",
            expires_at=None,
            scopes=scopes,
        ),
    )


@pytest.fixture
def scene_zone():
    """The time zone of the `scene`'s session; a module overrides it to see local times apart from UTC."""
    return "Europe/London"


@pytest.fixture
def scene(
    test_provider, event, editing_trainer, learner, learner2, learner3, scene_zone, django_capture_on_commit_callbacks
):
    """Edna's session held three hours ago in her provider meeting, with Lena, Leo and Lia booked."""
    return held_session(
        event=event,
        owner=editing_trainer,
        learners=[learner, learner2, learner3],
        run_on_commit=django_capture_on_commit_callbacks,
        zone=scene_zone,
    )
