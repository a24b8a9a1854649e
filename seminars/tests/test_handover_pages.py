"""The handover pages (site admins only) and the admins' alert when a trainer's rooms need a new owner.

Pages: the list ("Rooms that need a new owner", the record of handovers), one room's and one trainer's handover
forms (hosts listed from the site's Zoom account, people with a connection; errors beside the field, nothing
changed), the record with its progress. The alert: deactivating a trainer, or their connection being revoked,
tells every site admin which sessions still to start are affected, linking to the trainer's handover page.
Zoom is stubbed with `responses` (FakeZoom plus the user look-ups); tasks run eagerly after commit."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from seminars.handover_alerts import owner_handover_url
from seminars.models import Notification, OutboundEmail, RoomHandover
from seminars.tests import test_virtual_site_account as site_account
from seminars.tests.conftest import make_site_admin, make_user
from seminars.tests.test_handovers import HOST_A, HOST_B, account_room, own_room, use_room
from seminars.tests.test_virtual_host_picker import list_users
from seminars.tests.test_virtual_site_account import no_zoom_user, zoom_user
from virtualmeeting import signals
from virtualmeeting.models import ProviderConnection
from virtualmeeting_zoom.tests.conftest import make_connection

zoom = site_account.zoom  # the site's Zoom account, stubbed (autouse)

ROLES = ["anonymous", "outsider", "learner", "trainer", "editing_trainer", "site_admin"]
EXPECTED = {"anonymous": 302, "outsider": 403, "learner": 403, "trainer": 403, "editing_trainer": 403}
B_USER = {"id": HOST_B, "email": "b@zoom.example.com", "first_name": "Beth", "last_name": "Host", "type": 2}


@pytest.fixture
def handed(event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks):
    """Edna's account room with the event's session, handed to host B by the admin."""
    from seminars.services.handovers import rooms_hand_over

    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    zoom_user(zoom.mocked, HOST_B, user_id=HOST_B)
    with django_capture_on_commit_callbacks(execute=True):
        return rooms_hand_over(by=site_admin, rooms=[room], to_host=HOST_B, reason="Edna left.")


def urls(handed, editing_trainer):
    room = handed.rooms.get().room
    return {
        "handovers": reverse("seminars:handovers"),
        "handover": reverse("seminars:handover", args=[handed.pk]),
        "owner_handover": reverse("seminars:owner_handover", args=[editing_trainer.pk]),
        "room_handover": reverse("seminars:room_handover", args=[room.pk]),
    }


@pytest.mark.parametrize("route", ["handovers", "handover", "owner_handover", "room_handover"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
def test_only_site_admins_reach_the_handover_pages(client, request, handed, editing_trainer, zoom, route, method, role):
    list_users(zoom.mocked, [[B_USER]])
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    url = urls(handed, editing_trainer)[route]
    response = client.get(url) if method == "GET" else client.post(url, {"target": "host", "to_host": HOST_A})
    if method == "POST" and route in ("handovers", "handover") and role != "anonymous":
        expected = 405  # read-only pages
    elif role == "site_admin":
        expected = 200
    else:
        expected = EXPECTED[role]
    assert response.status_code == expected, f"{role} {method} {route}"
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))
    assert RoomHandover.objects.count() == 1  # nobody handed anything (the admin's POST lacks a valid host here)


def test_the_room_page_offers_hand_over_to_site_admins_only(client, handed, site_admin, editing_trainer):
    room = handed.rooms.get().room
    client.force_login(site_admin)
    assert reverse("seminars:room_handover", args=[room.pk]) in client.get(room.get_absolute_url()).content.decode()
    client.force_login(editing_trainer)
    assert "/handover/" not in client.get(room.get_absolute_url()).content.decode()


def test_the_record_page_says_who_when_from_to_and_how_far(client, handed, site_admin):
    client.force_login(site_admin)

    html = client.get(handed.get_absolute_url()).content.decode()

    assert "1 of 1 meeting moved." in html and "Nothing is left moving." in html
    assert 'http-equiv="refresh"' not in html  # done: no more reloading
    assert "Edna left." in html and "a@zoom.example.com (site account)" in html
    assert f"Edna Editor ({HOST_B})" in html  # the new host, by name and email


def test_the_record_page_reloads_itself_while_meetings_move(
    client, event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    from seminars.services.handovers import rooms_hand_over

    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    zoom_user(zoom.mocked, HOST_B, user_id=HOST_B)
    handover = rooms_hand_over(by=site_admin, rooms=[room], to_host=HOST_B)  # the worker has not run yet
    client.force_login(site_admin)

    html = client.get(handover.get_absolute_url()).content.decode()

    assert "0 of 1 meeting moved." in html and "Moving…" in html
    assert '<meta http-equiv="refresh" content="5">' in html


def test_a_trainers_form_lists_the_accounts_hosts_and_hands_every_room(
    client, event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    list_users(zoom.mocked, [[B_USER]])
    client.force_login(site_admin)
    url = reverse("seminars:owner_handover", args=[editing_trainer.pk])

    page = client.get(url).content.decode()
    assert "Hand over the rooms of Edna" in page
    assert "Beth Host (b@zoom.example.com): Licensed" in page and f'value="{HOST_B}"' in page
    assert "1 session still to start" in page

    zoom.mocked.get(f"{site_account.API}/users/{HOST_B}", json=dict(B_USER, status="active"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": "host", "to_host": HOST_B, "reason": "Moved on."})

    handover = RoomHandover.objects.get()
    assert response.status_code == 302 and response["Location"] == handover.get_absolute_url()
    assert handover.from_owner == editing_trainer and handover.to_host_name == "Beth Host"
    room.refresh_from_db()
    assert room.virtual_host == HOST_B
    followed = client.get(response["Location"]).content.decode()
    assert "1 room handed over: its meetings are being moved." in followed and "1 of 1 meeting moved." in followed


def test_a_refused_host_is_said_beside_it_and_nothing_changes(
    client, event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    room = account_room(event, editing_trainer)
    use_room(event, room, django_capture_on_commit_callbacks)
    list_users(zoom.mocked, [[B_USER]])
    no_zoom_user(zoom.mocked, HOST_B)
    client.force_login(site_admin)

    response = client.post(reverse("seminars:room_handover", args=[room.pk]), {"target": "host", "to_host": HOST_B})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"to_host": ["This host is not an active user of the site's Zoom account: choose another."]}
    room.refresh_from_db()
    assert room.virtual_host == HOST_A and not RoomHandover.objects.exists()


def test_when_zoom_cannot_list_its_users_the_host_is_typed(client, event, editing_trainer, site_admin, zoom):
    room = account_room(event, editing_trainer)
    zoom.mocked.get(f"{site_account.API}/users", status=500, json={"code": 500, "message": "Internal error"})
    client.force_login(site_admin)

    html = client.get(reverse("seminars:room_handover", args=[room.pk])).content.decode()

    assert "The account's users could not be listed: Zoom had a server error" in html
    assert 'type="email" name="to_host"' in html


def test_searching_the_accounts_users_keeps_a_host_chosen_and_the_search_beside_it(
    client, event, editing_trainer, site_admin, zoom
):
    room = account_room(event, editing_trainer)
    list_users(zoom.mocked, [[B_USER]])
    client.force_login(site_admin)
    url = reverse("seminars:room_handover", args=[room.pk])

    first = client.get(url)
    assert first.context["form"]["target"].value() is None  # nothing chosen before a search
    searched = client.get(url, {"host_q": "beth"})

    assert searched.context["form"]["target"].value() == "host"
    html = searched.content.decode()
    assert 'form="host-search"' in html and '<form method="get" id="host-search">' in html
    # The search sits with the host's field, after the choice of target, inside the handover form.
    assert html.index('name="target"') < html.index('id="host-q"') < html.index('name="to_host"')
    assert "Beth Host (b@zoom.example.com): Licensed" in html


def test_only_people_with_a_connection_are_offered_as_owners(client, event, editing_trainer, site_admin, zoom):
    room = own_room(event, editing_trainer)
    carl, dora = make_user("carl"), make_user("dora")
    make_connection(carl, remote_account_id="carl")
    make_connection(dora, remote_account_id="dora", status=ProviderConnection.Status.REVOKED)
    client.force_login(site_admin)

    response = client.get(reverse("seminars:room_handover", args=[room.pk]))

    offered = list(response.context["form"].fields["to_owner"].queryset)
    assert offered == [carl]


# --- The alert ---------------------------------------------------------------------------------------------


def test_deactivating_a_trainer_tells_the_admins_which_sessions_are_affected(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    second_admin = make_site_admin("ada")
    make_connection(editing_trainer)
    room = own_room(event, editing_trainer)
    event.sessions.update(room=room)

    editing_trainer.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        editing_trainer.save()

    notes = Notification.objects.filter(subject="Rooms of Edna need a new owner").order_by("user_id")
    assert [note.user for note in notes] == [site_admin, second_admin]
    note = notes[0]
    assert "deactivated in the LMS" in note.body and "1 session still to start is affected" in note.body
    assert "Fire wardens: Spring intake" in note.body and ": Own" in note.body
    assert note.url == owner_handover_url(owner_id=editing_trainer.pk)
    assert OutboundEmail.objects.filter(to=site_admin.email).count() == 1


def test_no_alert_without_sessions_to_start_or_for_other_saves(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks, django_assert_num_queries
):
    room = own_room(event, editing_trainer)
    event.sessions.update(room=room, start=timezone.now() - timedelta(hours=2), finish=timezone.now())
    editing_trainer.last_login = timezone.now()
    with django_assert_num_queries(1):  # a login's save: the UPDATE alone, no look at is_active
        editing_trainer.save(update_fields=["last_login"])

    editing_trainer.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        editing_trainer.save()

    assert not Notification.objects.exists()


def test_a_revoked_connection_tells_the_admins_about_the_rooms_made_in_it(
    event, editing_trainer, site_admin, zoom, django_capture_on_commit_callbacks
):
    connection = make_connection(editing_trainer)
    account_room(event, editing_trainer, name="Account")  # not affected: hosted in the site's account
    room = own_room(event, editing_trainer)
    event.sessions.update(room=room)

    with django_capture_on_commit_callbacks(execute=True):
        signals.connection_revoked.send(sender=ProviderConnection, connection=connection)

    note = Notification.objects.get(user=site_admin)
    assert note.subject == "Rooms of Edna need a new owner"
    assert "their zoom connection was revoked" in note.body and ": Own" in note.body
    assert note.url == owner_handover_url(owner_id=editing_trainer.pk, provider="zoom")
    # The owner is told to reconnect, as before.
    assert Notification.objects.filter(user=editing_trainer, subject="Reconnect your meeting account").exists()


def test_the_list_shows_owners_needing_a_new_owner_with_the_link(client, event, editing_trainer, site_admin, zoom):
    room = own_room(event, editing_trainer)  # no connection at all
    event.sessions.update(room=room)
    client.force_login(site_admin)

    html = client.get(reverse("seminars:handovers")).content.decode()

    assert "their own connection is revoked or gone" in html
    assert f"{reverse('seminars:owner_handover', args=[editing_trainer.pk])}?provider=zoom" in html
    assert "Hand over the rooms of Edna" in html
