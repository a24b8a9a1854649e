"""The fuzz harness's own checks can fail: a snapshot sees any write, and a refusal that writes is caught."""

import pytest
from django.urls import reverse

from seminars.models import Room, SeminarEvent
from tests.fuzz.harness import changed_tables, check, client_for, send, snapshot
from virtualmeeting.models import ProviderConfig


def test_a_snapshot_sees_an_insert_an_update_of_one_column_and_a_delete(scene):
    before = snapshot()
    Room.objects.filter(pk=scene.site_room.pk).update(description="Ground floor!")
    assert changed_tables(before, snapshot()) == ["seminars.Room"]

    before = snapshot()
    ProviderConfig.objects.filter(provider="zoom").update(webhook_secret="another")  # an encrypted column
    assert changed_tables(before, snapshot()) == ["virtualmeeting.ProviderConfig"]

    before = snapshot()
    scene.notification.delete()
    assert changed_tables(before, snapshot()) == ["seminars.Notification"]


def test_a_refusal_that_writes_fails_the_check(scene):
    client = client_for(scene.learner)

    def refused_after_writing():
        Room.objects.filter(pk=scene.site_room.pk).update(name="Changed")
        return send(client, "POST", reverse("seminars:site_room_add"), {})

    with pytest.raises(AssertionError, match=r"refused with 403, but changed \['seminars.Room'\]"):
        check(refused_after_writing)


def test_a_write_out_of_reach_fails_the_check(scene):
    client = client_for(scene.editor)

    def accepted_but_touching_another_course():
        SeminarEvent.objects.filter(pk=scene.other_event.pk).update(capacity=99)
        return send(client, "GET", reverse("seminars:courses"))

    with pytest.raises(AssertionError, match="out of the actor's reach"):
        check(accepted_but_touching_another_course, untouchable=scene.other_course_rows())
