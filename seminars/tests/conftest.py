"""The cast and the scenery shared by the seminar tests."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User

from seminars.models import Course, Enrolment, Seminar, SeminarEvent, Session

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
