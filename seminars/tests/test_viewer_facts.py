"""The header's per-user facts are cached (lms.userfacts); no page ever shows them stale after a change.

Each test loads a page (which caches the facts), changes what they come from in the way the product
does, and loads a page again: the change shows at once. A second part checks that the cache is really
used (a page in the steady state asks no query for them) and that a value computed while a change
happened is never served.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lms import userfacts
from seminars.models import Notification
from seminars.notifications import notify
from seminars.services.profiles import notifications_mark_read, profile_update
from seminars.tests.conftest import make_user

pytestmark = pytest.mark.django_db

SITE_ADMINISTRATION = "Site administration"


def _page(client) -> str:
    response = client.get(reverse("seminars:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _bell(html: str) -> int:
    marker = '<span class="count">'
    if marker not in html:
        return 0
    return int(html.split(marker, 1)[1].split("<", 1)[0])


def test_a_new_notification_shows_in_the_bell_at_once(client, learner):
    client.force_login(learner)
    assert _bell(_page(client)) == 0

    notify(users=[learner], subject="Event cancelled: Spring intake", body="")  # bulk_create: no signal
    html = _page(client)
    assert _bell(html) == 1 and "Event cancelled: Spring intake" in html

    Notification.objects.create(user=learner, subject="Moved: Spring intake")
    html = _page(client)
    assert _bell(html) == 2 and "Moved: Spring intake" in html


def test_reading_notifications_clears_the_bell_on_that_page_and_the_next(client, learner):
    notify(users=[learner], subject="Booked", body="")
    client.force_login(learner)
    assert _bell(_page(client)) == 1

    listing = client.get(reverse("seminars:notifications")).content.decode()
    assert _bell(listing) == 0  # the page that marked them read
    assert _bell(_page(client)) == 0


def test_opening_one_notification_and_deleting_one_update_the_bell(client, learner):
    first = Notification.objects.create(user=learner, subject="First")
    Notification.objects.create(user=learner, subject="Second")
    client.force_login(learner)
    assert _bell(_page(client)) == 2

    client.get(reverse("seminars:notification_open", args=[first.pk]))
    assert _bell(_page(client)) == 1

    Notification.objects.filter(subject="Second").delete()
    html = _page(client)
    assert _bell(html) == 0 and "Second" not in html


def test_marking_read_elsewhere_shows_on_the_next_page(client, learner):
    notify(users=[learner], subject="Booked", body="")
    client.force_login(learner)
    assert _bell(_page(client)) == 1
    notifications_mark_read(user=learner)
    assert _bell(_page(client)) == 0


def test_a_new_time_zone_shows_at_once(client, learner):
    client.force_login(learner)
    assert "yours (UTC," in _page(client)

    client.post(reverse("seminars:profile"), {"time_zone": "Asia/Kolkata"})
    assert "yours (Asia/Kolkata," in _page(client)

    profile_update(user=learner, time_zone="America/Chicago")
    assert "yours (America/Chicago," in _page(client)


def test_granting_and_taking_the_site_admin_permission_shows_at_once(client):
    staff = make_user("stella", is_staff=True)
    permission = Permission.objects.get(codename="manage_site")
    client.force_login(staff)
    assert SITE_ADMINISTRATION not in _page(client)

    staff.user_permissions.add(permission)
    assert SITE_ADMINISTRATION in _page(client)

    staff.user_permissions.remove(permission)
    assert SITE_ADMINISTRATION not in _page(client)


def test_a_groups_permission_and_membership_show_at_once(client):
    staff = make_user("stella", is_staff=True)
    group = Group.objects.create(name="Site admins")
    permission = Permission.objects.get(codename="manage_site")
    client.force_login(staff)
    assert SITE_ADMINISTRATION not in _page(client)

    group.user_set.add(staff)  # from the group's side
    group.permissions.add(permission)  # every member of the group
    assert SITE_ADMINISTRATION in _page(client)

    group.permissions.remove(permission)
    assert SITE_ADMINISTRATION not in _page(client)

    group.permissions.add(permission)
    assert SITE_ADMINISTRATION in _page(client)
    staff.groups.remove(group)
    assert SITE_ADMINISTRATION not in _page(client)

    staff.groups.add(group)
    assert SITE_ADMINISTRATION in _page(client)
    group.delete()
    assert SITE_ADMINISTRATION not in _page(client)


def test_losing_staff_status_takes_the_menu_and_its_pages_away_at_once(client, site_admin):
    client.force_login(site_admin)
    assert SITE_ADMINISTRATION in _page(client)
    assert client.get(reverse("seminars:email_templates")).status_code == 200

    site_admin.is_staff = False
    site_admin.save()
    assert SITE_ADMINISTRATION not in _page(client)
    assert client.get(reverse("seminars:email_templates")).status_code == 403


def test_in_the_steady_state_the_header_asks_no_query_for_the_bell_the_zone_or_the_admin_flag(client, site_admin):
    notify(users=[site_admin], subject="Hello", body="")
    client.force_login(site_admin)
    _page(client)  # caches the facts

    with CaptureQueriesContext(connection) as queries:
        html = _page(client)

    assert _bell(html) == 1 and SITE_ADMINISTRATION in html
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "seminars_notification" not in sql
    assert "seminars_profile" not in sql
    assert "auth_permission" not in sql


def test_a_value_computed_while_a_change_happened_is_never_served(monkeypatch, learner):
    """A reader computes the facts while a notification arrives: what it stores is tagged with the
    generation it read before, so the next reader computes again and sees the notification."""
    arrived = []

    def notification_arrives_meanwhile(user):
        if not arrived:
            arrived.append(Notification.objects.create(user=user, subject="Meanwhile"))
        return None

    monkeypatch.setitem(userfacts._FACTS, "probe", notification_arrives_meanwhile)  # computed after "unread"
    reader = type(learner).objects.get(pk=learner.pk)
    assert userfacts.facts(reader)["unread"] == 0  # computed before the notification

    next_reader = type(learner).objects.get(pk=learner.pk)
    assert userfacts.facts(next_reader)["unread"] == 1


def test_a_value_stored_before_the_commit_is_dropped_when_the_change_commits(
    django_capture_on_commit_callbacks, learner
):
    """Another process may read the old rows after the change's first mark and before its commit; the
    mark given again at commit makes what it stored useless."""
    from django.core.cache import cache

    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[learner], subject="Booked", body="")
        # What a reader on another connection would store now: the old count, tagged with the tokens of now.
        stale_reader = type(learner).objects.get(pk=learner.pk)
        values = dict(userfacts.facts(stale_reader), unread=0)
        tokens = userfacts._tokens(learner.pk, {})
        cache.set(userfacts._facts_key(learner.pk), {"tokens": tokens, "facts": values})

    after = type(learner).objects.get(pk=learner.pk)
    assert userfacts.facts(after)["unread"] == 1


# ---- Enrolment roles and the "Approvals" count ------------------------------------------------------------


def _approvals(html: str) -> int:
    marker = 'Approvals <span class="nav-count">'
    if marker not in html:
        return 0
    return int(html.split(marker, 1)[1].split("<", 1)[0])


def test_enrolling_removing_and_changing_a_role_show_at_once(client, course, seminar, editing_trainer):
    from seminars.models import Enrolment
    from seminars.services.courses import enrolment_create, enrolment_delete, enrolment_set_role

    person = make_user("newcomer")
    client.force_login(person)
    course_url = reverse("seminars:course", args=[course.pk])
    edit_url = reverse("seminars:seminar_edit", args=[seminar.pk])
    assert client.get(course_url).status_code == 404  # caches: enrolled nowhere

    enrolment = enrolment_create(course=course, user=person, role=Enrolment.Role.LEARNER, actor=editing_trainer)
    assert client.get(course_url).status_code == 200
    assert client.get(edit_url).status_code == 403

    enrolment_set_role(enrolment=enrolment, role=Enrolment.Role.EDITING_TRAINER, actor=editing_trainer)
    assert client.get(edit_url).status_code == 200

    enrolment.refresh_from_db()
    enrolment_set_role(enrolment=enrolment, role=Enrolment.Role.LEARNER, actor=editing_trainer)
    assert client.get(edit_url).status_code == 403

    enrolment.refresh_from_db()
    enrolment_delete(enrolment=enrolment, actor=editing_trainer)
    assert client.get(course_url).status_code == 404


def test_a_new_manager_sees_their_learners_request_counted_at_once(client, event, seminar, learner):
    from seminars.models import Profile, Seminar
    from seminars.services.bookings import booking_create

    seminar.approval_type = Seminar.ApprovalType.MANAGER
    seminar.save()
    mary = make_user("mary")
    client.force_login(mary)
    assert _approvals(_page(client)) == 0  # caches: manages nobody

    Profile.objects.create(user=learner, manager=mary)
    booking_create(event=event, user=learner, actor=learner)
    assert _approvals(_page(client)) == 1

    other = make_user("olga")
    profile = Profile.objects.get(user=learner)
    profile.manager = other
    profile.save()
    assert _approvals(_page(client)) == 0  # no longer hers to decide
    client.force_login(other)
    assert _approvals(_page(client)) == 1


def test_a_new_trainer_sees_the_requests_awaiting_them_at_once(
    client, course, event, seminar, learner, editing_trainer
):
    from seminars.models import Enrolment, Seminar
    from seminars.services.bookings import booking_create
    from seminars.services.courses import enrolment_create

    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    booking_create(event=event, user=learner, actor=learner)
    person = make_user("tom")
    client.force_login(person)
    assert _approvals(_page(client)) == 0

    enrolment_create(course=course, user=person, role=Enrolment.Role.TRAINER, actor=editing_trainer)
    assert _approvals(_page(client)) == 1


def test_in_the_steady_state_a_learner_page_asks_no_query_for_roles_or_the_approvals_count(client, learner, event):
    client.force_login(learner)
    event_url = reverse("seminars:event", args=[event.pk])
    client.get(event_url)  # caches the facts

    with CaptureQueriesContext(connection) as queries:
        response = client.get(event_url)

    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [q for q in sql if "seminars_enrolment" in q and "role" in q and "seminars_eventtrainer" not in q]
    assert not [q for q in sql if q.startswith("SELECT COUNT(*)") and "seminars_booking" in q]
