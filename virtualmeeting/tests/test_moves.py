"""A meeting handed to another owner (or host) is made there first, then deleted where it was: people always have
a meeting to join, and nothing is left behind (through the test provider)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from virtualmeeting import signals
from virtualmeeting.models import MeetingRegistrant, ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.registrants import registrants_sync
from virtualmeeting.selectors import registrant_join_url
from virtualmeeting.services import connection_revoke, meeting_remove, registrant_put
from virtualmeeting.tests.conftest import connect, make_user
from virtualmeeting.tests.helpers import fresh, put, run

Status = VirtualMeeting.Status


@pytest.fixture
def ann(db):
    user = make_user("ann", first_name="Ann", last_name="Other")
    connect(user)
    return user


@pytest.fixture
def left_behind():
    """Every meeting_left_behind sent, as its keyword arguments."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    signals.meeting_left_behind.connect(receiver)
    yield sent
    signals.meeting_left_behind.disconnect(receiver)


def remote_ids():
    return [m["remote_id"] for m in TestProvider.meetings()]


def accounts():
    return sorted(m["account"] for m in TestProvider.meetings())


def made(owner, **kwargs):
    meeting = put(owner, **kwargs)
    assert run(meeting) == ["create"]
    return fresh(meeting)


def due(meeting):
    """Travel to when the meeting's next attempt is due."""
    return time_machine.travel(fresh(meeting).next_attempt_at + timedelta(seconds=1))


def test_the_new_meeting_is_made_before_the_old_one_is_deleted(owner, ann):
    meeting = made(owner)
    old_id = meeting.remote_id

    put(ann)
    assert run(meeting) == ["create", "delete (owner changed)"]

    row = fresh(meeting)
    [remote] = TestProvider.meetings()
    assert remote["account"] == "acct-ann" and remote["remote_id"] == row.remote_id != old_id
    assert (row.status, row.remote_owner, row.join_url) == (Status.AVAILABLE, ann, remote["join_url"])
    assert (row.old_remote_id, row.old_join_url, row.old_remote_owner, row.old_remote_host) == ("", "", None, "")


def test_while_the_new_owners_create_waits_people_join_the_old_meeting(
    owner, ann, received, django_capture_on_commit_callbacks
):
    meeting = made(owner)
    old_url = meeting.join_url
    TestProvider.fail_next("create", "rate_limited_daily")

    put(ann)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["waiting"]

    row = fresh(meeting)
    assert row.status == Status.WAITING and row.waiting_daily_limit
    assert [name for name, _ in received] == ["meeting_waiting"]  # not failed
    assert (row.remote_id, row.old_remote_id) == ("", meeting.remote_id)
    assert row.has_remote and row.joinable_url == old_url
    assert remote_ids() == [meeting.remote_id]  # the old meeting is still there to join

    with due(meeting):
        assert run(meeting) == ["create", "delete (owner changed)"]

    row = fresh(meeting)
    [remote] = TestProvider.meetings()
    assert row.joinable_url == row.join_url == remote["join_url"] != old_url
    assert remote["account"] == "acct-ann"


def test_the_join_url_changes_when_the_new_meeting_is_recorded_not_before(owner, ann):
    """Between the create and the old meeting's delete (a delete failing for a while), people join the new one."""
    meeting = made(owner)
    TestProvider.fail_next("delete", "transient")

    put(ann)
    assert run(meeting) == ["create", "retry"]

    row = fresh(meeting)
    new = next(m for m in TestProvider.meetings() if m["account"] == "acct-ann")
    assert row.joinable_url == new["join_url"] and row.old_remote_id == meeting.remote_id
    assert row.status == Status.UPDATING  # not done: the old meeting still has to go
    assert sorted(remote_ids()) == sorted([meeting.remote_id, new["remote_id"]])

    with due(meeting):
        assert run(meeting) == ["delete (owner changed)"]
    assert remote_ids() == [new["remote_id"]]
    assert fresh(meeting).status == Status.AVAILABLE


def test_registrants_keep_their_old_links_during_the_move_and_get_new_ones_in_the_new_meeting(owner, ann):
    meeting = made(owner, personal_links=True)
    registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="Learner")
    registrants_sync(meeting.pk)
    old_link = registrant_join_url(reference="ref:1", key="booking:1")
    assert old_link.startswith(f"https://meet.test.invalid/w/{meeting.remote_id}?")
    TestProvider.fail_next("create", "rate_limited", seconds=30)

    put(ann, personal_links=True)
    assert run(meeting) == ["waiting"]
    assert registrant_join_url(reference="ref:1", key="booking:1") == old_link

    with due(meeting):
        assert run(meeting) == ["create", "delete (owner changed)"]
        row = fresh(meeting)
        assert MeetingRegistrant.objects.get(key="booking:1").status == MeetingRegistrant.Status.PENDING
        assert registrants_sync(meeting.pk) == ["register 1"]

    new_link = registrant_join_url(reference="ref:1", key="booking:1")
    assert new_link.startswith(f"https://meet.test.invalid/w/{row.remote_id}?")
    assert [r["status"] for r in TestProvider.registrants(row.remote_id)] == ["approved"]


def test_a_second_handover_while_the_create_waits_makes_only_the_last_owners_meeting(owner, ann):
    meeting = made(owner)
    TestProvider.fail_next("create", "rate_limited_daily")
    put(ann)
    assert run(meeting) == ["waiting"]
    bob = make_user("bob")
    connect(bob)

    put(bob)  # the wait was Ann's daily limit: Bob's meeting is made at once
    assert run(meeting) == ["create", "delete (owner changed)"]

    assert accounts() == ["acct-bob"]
    row = fresh(meeting)
    assert (row.status, row.remote_owner, row.old_remote_id) == (Status.AVAILABLE, bob, "")


def test_a_second_handover_before_the_old_meeting_is_deleted_deletes_both_old_ones(owner, ann):
    meeting = made(owner)
    TestProvider.fail_next("delete", "transient")
    put(ann)
    assert run(meeting) == ["create", "retry"]
    bob = make_user("bob")
    connect(bob)

    put(bob)
    with due(meeting):
        assert run(meeting) == ["delete (owner changed)", "create", "delete (owner changed)"]

    assert accounts() == ["acct-bob"]
    assert fresh(meeting).status == Status.AVAILABLE


def test_handed_back_before_the_new_meeting_was_made_the_old_one_is_kept(owner, ann):
    meeting = made(owner, personal_links=True)
    registrant_put(reference="ref:1", key="booking:1", first_name="Lea", last_name="Learner")
    registrants_sync(meeting.pk)
    link = registrant_join_url(reference="ref:1", key="booking:1")
    TestProvider.fail_next("create", "rate_limited_daily")
    put(ann, personal_links=True)
    assert run(meeting) == ["waiting"]

    put(owner, personal_links=True)
    assert run(meeting) == ["in sync"]

    row = fresh(meeting)
    assert (row.remote_id, row.remote_owner, row.join_url) == (meeting.remote_id, owner, meeting.join_url)
    assert (row.status, row.old_remote_id) == (Status.AVAILABLE, "")
    assert remote_ids() == [meeting.remote_id]
    assert TestProvider.calls("create") == 2 and TestProvider.calls("delete") == 0  # the refused one, no other
    assert registrant_join_url(reference="ref:1", key="booking:1") == link


def test_a_lost_create_for_the_previous_new_owner_is_found_there_and_deleted(owner, ann):
    meeting = made(owner)
    TestProvider.fail_next("create", "ambiguous")
    put(ann)
    assert run(meeting) == ["retry"]  # Ann's meeting was made, its answer lost
    bob = make_user("bob")
    connect(bob)

    put(bob)
    with due(meeting):
        assert run(meeting) == ["find (adopted)", "delete (owner changed)", "create", "delete (owner changed)"]

    assert accounts() == ["acct-bob"]
    assert fresh(meeting).remote_owner == bob


def test_a_lost_create_during_a_move_never_adopts_the_old_meeting(owner):
    """Two LMS owners connected to the same provider account: the old meeting has the same topic and start there."""
    meeting = made(owner)
    old_id = meeting.remote_id
    colleague = make_user("cole")
    connect(colleague, account_id="acct-tom")
    TestProvider.fail_next("create", "ambiguous")

    put(colleague)
    assert run(meeting) == ["retry"]
    row = fresh(meeting)
    assert row.maybe_created and row.old_remote_id == old_id and row.joinable_url == meeting.join_url

    with due(meeting):
        assert run(meeting) == ["find (adopted)", "delete (owner changed)"]

    row = fresh(meeting)
    [remote] = TestProvider.meetings()
    assert row.remote_id == remote["remote_id"] != old_id
    assert (row.status, row.remote_owner) == (Status.AVAILABLE, colleague)


def test_a_row_removed_while_the_new_meeting_waits_deletes_the_old_one(owner, ann):
    meeting = made(owner)
    TestProvider.fail_next("create", "rate_limited_daily")
    put(ann)
    run(meeting)

    assert meeting_remove(reference="ref:1").status == Status.DELETING  # the old meeting still exists
    assert run(meeting) == ["delete (owner changed)", "in sync"]

    assert TestProvider.meetings() == []
    assert fresh(meeting).status == Status.DELETED


@pytest.mark.parametrize(
    ("failure", "steps"),
    [
        ("delete", ["delete (owner changed)", "delete"]),  # the new meeting made, the old one not deleted yet
        ("ambiguous", ["delete (owner changed)", "find (adopted)", "delete"]),  # the new one's answer lost
    ],
)
def test_a_row_removed_half_way_through_a_move_deletes_both_meetings(owner, ann, failure, steps):
    meeting = made(owner)
    if failure == "delete":
        TestProvider.fail_next("delete", "transient")
    else:
        TestProvider.fail_next("create", "ambiguous")
    put(ann)
    run(meeting)
    assert len(TestProvider.meetings()) == 2

    meeting_remove(reference="ref:1")
    assert run(meeting) == steps

    assert TestProvider.meetings() == []
    assert fresh(meeting).status == Status.DELETED


def test_an_old_meeting_whose_connection_is_revoked_is_deleted_with_the_site_account(
    owner, ann, left_behind, django_capture_on_commit_callbacks
):
    ProviderConfig.objects.filter(provider="test").update(
        account_id="acct-site", account_client_id="s2s-id", account_client_secret="s2s"
    )
    meeting = made(owner)
    connection_revoke(connection=ProviderConnection.objects.get(user=owner), message="The app was removed.")

    put(ann)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create", "delete (with the site account)"]

    assert accounts() == ["acct-ann"]
    assert TestProvider.calls("account_delete") == 1 and TestProvider.calls("delete") == 0
    assert fresh(meeting).status == Status.AVAILABLE
    assert left_behind == []


def test_a_connection_found_revoked_at_the_delete_is_revoked_and_the_site_account_deletes(owner, ann):
    ProviderConfig.objects.filter(provider="test").update(
        account_id="acct-site", account_client_id="s2s-id", account_client_secret="s2s"
    )
    meeting = made(owner)
    TestProvider.fail_next("delete", "auth_revoked")

    put(ann)
    assert run(meeting) == ["create", "delete (with the site account)"]

    assert ProviderConnection.objects.get(user=owner).status == ProviderConnection.Status.REVOKED
    assert accounts() == ["acct-ann"]
    assert fresh(meeting).status == Status.AVAILABLE


def test_with_no_site_account_the_old_meeting_is_left_behind_and_announced_once(
    owner, ann, left_behind, django_capture_on_commit_callbacks
):
    meeting = made(owner)
    ProviderConnection.objects.filter(user=owner).delete()  # the trainer left: their connection is gone

    put(ann)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create", "delete (old meeting left behind)"]
    with django_capture_on_commit_callbacks(execute=True):
        VirtualMeeting.objects.filter(pk=meeting.pk).update(status=Status.UPDATING)  # a later run (e.g. a retry)
        assert run(meeting) == ["in sync"]

    row = fresh(meeting)
    assert (row.status, row.remote_owner, row.old_remote_id) == (Status.AVAILABLE, ann, "")
    assert sorted(remote_ids()) == sorted([meeting.remote_id, row.remote_id])  # the old one is still there
    [sent] = left_behind
    assert (sent["meeting"].pk, sent["remote_id"], sent["owner"], sent["host"]) == (
        meeting.pk,
        meeting.remote_id,
        owner,
        "",
    )
    assert TestProvider.calls("delete") == 0


def test_an_old_meeting_the_site_account_cannot_delete_is_left_behind(
    owner, ann, left_behind, django_capture_on_commit_callbacks
):
    ProviderConfig.objects.filter(provider="test").update(
        account_id="acct-site", account_client_id="s2s-id", account_client_secret="s2s"
    )
    meeting = made(owner)
    connection_revoke(connection=ProviderConnection.objects.get(user=owner), message="Revoked.")
    TestProvider.fail_next("account_delete", "permanent")

    put(ann)
    with django_capture_on_commit_callbacks(execute=True):
        assert run(meeting) == ["create", "delete (old meeting left behind)"]

    assert fresh(meeting).status == Status.AVAILABLE
    assert [sent["remote_id"] for sent in left_behind] == [meeting.remote_id]
    assert TestProvider.calls("account_delete") == 1


def test_a_handover_while_waiting_for_the_old_owners_daily_limit_does_not_keep_that_wait(owner, ann):
    meeting = made(owner)
    TestProvider.fail_next("update", "rate_limited_daily")
    put(owner, topic="Renamed")
    assert run(meeting) == ["waiting"]
    assert fresh(meeting).next_attempt_at > timezone.now() + timedelta(minutes=1)

    put(ann, topic="Renamed")
    assert run(meeting) == ["create", "delete (owner changed)"]
    assert accounts() == ["acct-ann"]
