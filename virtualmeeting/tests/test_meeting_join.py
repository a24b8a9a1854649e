"""MeetingJoin: a meeting and its registrants' personal links read inside another app's query (the "Join now"
click reads them in the same statement as its session), with the same rule as meeting_with_personal_url."""

from django.db import connection

from virtualmeeting.models import MeetingRegistrant, VirtualMeeting
from virtualmeeting.selectors import MeetingJoin, meeting_with_personal_url
from virtualmeeting.tests.helpers import put

RStatus = MeetingRegistrant.Status


def caller_reads(reference: str, booking: str):
    """A caller's own query: one row of its table (a reference, a person's key and a booking number), joined to the
    meeting and to two registrants: a key given as a value and one the caller's SQL makes ("booking:" || n)."""
    join = MeetingJoin(reference="t.ref", keys=["t.person", "%s || t.n"])
    sql = (
        f"SELECT t.marker, {join.select} FROM (SELECT 'mine' AS marker, %s AS ref, %s AS person, %s AS n) t {join.join}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [reference, "user:7", booking, *join.params([], [[], ["booking:"]])])
        rows = cursor.fetchall()
    assert len(rows) == 1 and rows[0][0] == "mine"  # the caller's row, whatever was found beside it
    return join.read(rows[0], 1)


def registrant(meeting, key, *, status=RStatus.REGISTERED, present=True):
    link = f"https://provider.example/j/{meeting.pk}?tk=personal-{key}"
    return MeetingRegistrant.objects.create(
        meeting=meeting, key=key, first_name="Ann", status=status, present=present, join_url=link
    )


def test_the_meeting_and_each_keys_own_link_come_with_the_callers_row(owner):
    meeting, other = put(owner, "ref:1"), put(owner, "ref:10")
    staff, learner = registrant(meeting, "user:7"), registrant(meeting, "booking:3")
    registrant(other, "booking:3")
    registrant(meeting, "booking:4")

    found, links = caller_reads("ref:1", "3")

    assert found.pk == meeting.pk and found.reference == "ref:1"
    assert links == [staff.join_url, learner.join_url]
    assert links[1].startswith("https://provider.example/")  # decrypted as the ORM reads it


def test_no_link_unless_registered_and_wanted_on_a_wanted_meeting(owner):
    meeting = put(owner, "ref:1")
    registrant(meeting, "user:7", status=RStatus.PENDING)
    registrant(meeting, "booking:3", present=False)  # being cancelled
    assert caller_reads("ref:1", "3")[1] == ["", ""]

    MeetingRegistrant.objects.filter(meeting=meeting).update(status=RStatus.REGISTERED, present=True)
    assert all(caller_reads("ref:1", "3")[1])
    VirtualMeeting.objects.filter(pk=meeting.pk).update(present=False)  # the meeting is being removed
    found, links = caller_reads("ref:1", "3")
    assert found.pk == meeting.pk and links == ["", ""]


def test_no_meeting_leaves_the_callers_row_without_one(owner):
    put(owner, "ref:1")
    assert caller_reads("ref:2", "3") == (None, ["", ""])


def test_meeting_with_personal_url_reads_the_same_rule(owner):
    meeting = put(owner, "ref:1")
    link = registrant(meeting, "booking:3").join_url
    registrant(meeting, "booking:4", status=RStatus.FAILED)

    assert meeting_with_personal_url(reference="ref:1", key="booking:3") == (meeting, link)
    assert meeting_with_personal_url(reference="ref:1", key="booking:4") == (meeting, "")
    assert meeting_with_personal_url(reference="ref:1", key="") == (meeting, "")
    assert meeting_with_personal_url(reference="ref:9", key="booking:3") == (None, "")
