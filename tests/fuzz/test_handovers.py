"""Handing rooms over: hostile targets, people, hosts and reasons, by every member of the cast, on one room
and on every room of a trainer. Zoom is unreachable here (the site account is set up but cannot be asked): a
host is then refused with the reason, never a 500, and a refusal changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Room, RoomHandover, Session
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, rolled_back, send
from tests.fuzz.strategies import hostile_int_text, hostile_pk, hostile_text, mutated
from virtualmeeting.models import ProviderConfig, ProviderConnection


@pytest.fixture(params=["own connections only", "with the site account"])
def site_account(request, scene):
    """The trainer can take rooms over (a connection of their own); the editor owns a Zoom room with a session
    still to start (besides the scene's started one)."""
    ProviderConnection.objects.create(
        user=scene.trainer, provider="zoom", remote_account_id="tom-zoom", access_token="a", refresh_token="r"
    )
    room = Room.objects.create(name="Zoom later", capacity=5, event=scene.event, virtual_kind="zoom",
                               created_by=scene.editor)  # fmt: skip
    start = scene.session.start + timedelta(days=2)
    Session.objects.create(event=scene.event, start=start, finish=start + timedelta(hours=1), room=room)
    if request.param == "with the site account":
        ProviderConfig.objects.filter(provider="zoom").update(
            account_id="AcCoUnT-1", account_client_id="s2sClientId", account_client_secret="s2s-secret"
        )
    return request.param


@fuzzes("seminars:room_handover", "seminars:owner_handover")
@fuzz_settings(40)
@given(data=st.data())
def test_handing_over(scene, site_account, data):
    people = [scene.editor, scene.trainer, scene.learner, scene.admin]
    baseline = {"target": "owner", "to_owner": str(scene.trainer.pk), "to_host": "", "reason": ""}
    fields = {
        "target": st.one_of(st.sampled_from(["owner", "host"]), hostile_text),
        "to_owner": st.one_of(st.sampled_from([str(p.pk) for p in people]), hostile_int_text, hostile_text),
        "to_host": st.one_of(st.sampled_from(["hOsT-b", "b@example.com"]), hostile_text),
        "reason": hostile_text,
    }
    form = data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))
    page = data.draw(st.sampled_from(["room", "owner"]))
    if page == "room":
        pk = data.draw(st.one_of(st.sampled_from(scene.ids["room"]), hostile_pk()))
        url = reverse("seminars:room_handover", args=[pk])
    else:
        pk = data.draw(st.one_of(st.just(scene.editor.pk), st.sampled_from(scene.ids["user"]), hostile_pk()))
        url = reverse("seminars:owner_handover", args=[pk])
    who = data.draw(st.sampled_from(sorted(scene.users())))
    with rolled_back():
        client = client_for(scene.users()[who])
        response = check(lambda: send(client, "POST", url, form), untouchable=scene.other_course_rows())
    if who != "admin":
        assert response.status_code in (302, 403, 404)  # the login page, or refused


def test_the_baseline_hands_the_editors_rooms_to_the_trainer(scene, site_account):
    """The examples above start from a handover that is accepted: every room of the editor still to start."""
    client = client_for(scene.admin)
    form = {"target": "owner", "to_owner": str(scene.trainer.pk), "to_host": "", "reason": "Edna left."}
    response = send(client, "POST", reverse("seminars:owner_handover", args=[scene.editor.pk]), form)
    handover = RoomHandover.objects.latest("pk")  # the scene has one record already
    assert response.status_code == 302 and response["Location"] == handover.get_absolute_url()
    assert [row.room_name for row in handover.rooms.all()] == ["Zoom later"]
    assert Room.objects.get(name="Zoom later").created_by == scene.trainer
    assert Room.objects.get(name="Zoom room").created_by == scene.editor  # its session has started: not handed
