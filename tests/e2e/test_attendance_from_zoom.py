"""Issue 9, "Done when": attendance and recordings from Zoom, mapped exactly to each learner's booking.

An event of two one-hour sessions, each in its own Zoom meeting, with four seats and a waitlist. Five
learners book: Dan cancels before the start, which promotes Wes from the waitlist. Every learner holding a
seat gets a personal join link (a Zoom registrant) behind "Join now"; Dan's registrations are cancelled.
The simulator plays the same script in both sessions: Lena rejoins from a second device, Mia comes before
the start (her minutes are clipped to the grace), Wes stays exactly 75% of the session, Leo never comes, a
guest joins with no booking, and the host (the trainer's own Zoom account) is in from before the start to
the end. Session 1 reaches the site by webhooks; session 2 with every webhook off, by the reconciliation
poll (its delays shortened to seconds). Both sign-in sheets propose the same states and minutes, and list
the host apart from the learners and the guest; the trainer overrides Leo's row in session 1 and confirms
both sheets; the bookings' event-level states and history follow. The recordings arrive (by recording.completed, then by the poll) and only the
learners holding a seat see them, with the passcode. Zoom sent no email to anyone.

The clock moves with time_machine: the live server, the worker and the simulator run in this process.
Celery beat does not run: the test queues the sweep at the moments beat would.
"""

import re
import time
from datetime import UTC, timedelta

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import ZOOM_PRO, add_event, live_meetings, tomorrow_at, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The reconcile poll asks at these minutes after a meeting's end (the product's defaults are 5, 15, 30,
# 60, 120 and 240); the simulated Zoom has the participant list this many seconds after the end.
POLL_DELAYS = [0.05, 0.15, 0.3, 1, 2]
ZOOM_LIST_DELAY_SECONDS = 5
RECORDING_PASSCODE = "Fire2030"

# What the script below must give on each sheet, for a 60-minute session with 10 minutes of grace either
# side and 75% (45 minutes) needed to count as fully attended.
PROPOSED = {
    "Lena Learner": ("fully_attended", 53, "Personal join link"),  # (40 - 2) + (60 - 45), two devices
    "Leo Late": ("no_show", 0, "Not among the meeting's participants"),
    "Mia Morning": ("partially_attended", 43, "Personal join link"),  # joined at -14, counted from -10: 10 + 33
    "Wes Waitlist": ("fully_attended", 45, "Personal join link"),  # 50 - 5: exactly 75%
}
HOST_NAME = "Pat Pro"  # the simulated Zoom user the trainer connected: the meetings' host
STATE_LABELS = {"fully_attended": "Fully attended", "partially_attended": "Partially attended", "no_show": "No show"}


def zoom_time(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def play_the_session(zoom, meeting_id, start, links) -> str:
    """The simulator plays one session (minutes after its scheduled start); returns the occurrence's uuid.

    `links`: {first name: registrant id} of the learners' personal links.
    """

    def at(minutes):
        return zoom_time(start + timedelta(minutes=minutes))

    uuid = zoom.start_meeting(meeting_id, at=at(-15))  # the host opens the room early (and joins)
    mia = zoom.participant_join(uuid, registrant_id=links["Mia"], at=at(-14))
    lena_laptop = zoom.participant_join(uuid, registrant_id=links["Lena"], at=at(2))
    wes = zoom.participant_join(uuid, registrant_id=links["Wes"], at=at(5))
    guest = zoom.participant_join(uuid, name="Gail Guest", email="gail@example.org", at=at(5))
    zoom.participant_leave(uuid, guest, at=at(30))
    zoom.participant_leave(uuid, mia, at=at(33))
    zoom.participant_leave(uuid, lena_laptop, at=at(40))
    lena_phone = zoom.participant_join(uuid, registrant_id=links["Lena"], at=at(45))  # from another device
    assert lena_phone != lena_laptop
    zoom.participant_leave(uuid, wes, at=at(50))
    zoom.end_meeting(uuid, at=at(60))  # Lena's phone and the host leave as the host ends the meeting
    return uuid


def beat(condition, every: float = 1.0):
    """`condition` for wait_for, queuing the sweep every `every` seconds meanwhile, as Celery beat does
    (every 30 seconds in production; the poll's delays are seconds here)."""
    from virtualmeeting.tasks import meeting_sweep

    last = [-every]

    def check():
        if time.monotonic() - last[0] >= every:
            meeting_sweep.delay()
            last[0] = time.monotonic()
        return condition()

    return check


def registrants_by_name(zoom, meeting_id) -> dict:
    return {f"{r['first_name']} {r['last_name']}": r for r in zoom.registrants(meeting_id) if r["source"] != "form"}


def seats_registered(zoom, meeting_id) -> dict | None:
    """The meeting's registrants once they follow the seats: four approved, Dan's cancelled."""
    found = registrants_by_name(zoom, meeting_id)
    statuses = {name: registrant["status"] for name, registrant in found.items()}
    wanted = {name: "approved" for name in PROPOSED} | {"Dan Dropped": "cancelled"}
    return found if statuses == wanted else None


def check_join_now(pages, event_url, registrants):
    """Each learner holding a seat: "Join now" (our URL, checked at the click) lands on their own Zoom link."""
    for name, page in pages.items():
        page.goto(event_url)
        with page.expect_popup() as joined_info:
            page.get_by_role("link", name="Join now").click()
        joined = joined_info.value
        expect(joined.get_by_role("heading", name="You joined the meeting as a registrant")).to_be_visible()
        expect(joined.get_by_text(f"Registrant · {name}")).to_be_visible()
        assert joined.url == registrants[name]["join_url"]
        joined.close()


def check_sheet(trainer, event_url, session_label, start):
    """The sign-in sheet of one session proposes PROPOSED, lists the guest as not matched, and the trainer's
    own Zoom account, the meeting's host, under "Host and staff" with its minutes (never to match)."""
    trainer.goto(event_url)
    trainer.get_by_role("row").filter(has_text=session_label).get_by_role("link", name="Sign-in sheet").click()
    expect(trainer.get_by_role("heading", name="Sign-in sheet")).to_be_visible()
    for name, (state, minutes, evidence) in PROPOSED.items():
        expect(trainer.get_by_label(f"Attendance of {name}")).to_have_value(state)
        expect(trainer.get_by_label(f"Minutes of {name}")).to_have_value(str(minutes))
        row = trainer.get_by_role("row").filter(has=trainer.get_by_label(f"Attendance of {name}"))
        expect(row).to_contain_text(f"{STATE_LABELS[state]}, {minutes} minutes ({evidence})")
    lena = trainer.get_by_role("row").filter(has=trainer.get_by_label("Attendance of Lena Learner"))
    for joined, left in ((2, 40), (45, 60)):  # in the session's zone, UTC
        times = [f"{start + timedelta(minutes=minutes):%H:%M}" for minutes in (joined, left)]
        expect(lena).to_contain_text("–".join(times))
    expect(trainer.get_by_label("Attendance of Dan Dropped")).to_have_count(0)
    unmatched = trainer.get_by_test_id("unmatched-participant")
    expect(unmatched).to_have_count(1)
    expect(unmatched.filter(has_text="Gail Guest").get_by_role("cell").nth(2)).to_have_text("25")
    staff = trainer.get_by_role("region", name="Host and staff").get_by_test_id("staff-participant")
    expect(staff).to_have_count(1)
    expect(staff.get_by_role("cell").first).to_have_text(f"{HOST_NAME} {ZOOM_PRO} Host")
    expect(staff.get_by_role("cell").nth(2)).to_have_text("70")  # in from -15 to the end at 60: from -10 counts


def test_attendance_and_recordings_from_zoom_follow_each_learners_booking(
    browse, screenshot, live_server, settings, zoom_configured, worker, cast
):
    from seminars.models import (
        AttendanceSource,
        Booking,
        BookingStateChange,
        SeminarEvent,
        SessionAttendance,
    )
    from seminars.tests.conftest import enrol, make_user
    from virtualmeeting.models import MeetingOccurrence, MeetingParticipant, MeetingRecording, VirtualMeeting

    zoom = zoom_configured
    settings.VIRTUALMEETING = {**settings.VIRTUALMEETING, "PARTICIPANTS_POLL_DELAYS": POLL_DELAYS}
    lena, leo = cast.learner, cast.learner2
    mia, dan, wes, olga = (
        enrol(make_user(username, last_name=last_name), cast.course).user
        for username, last_name in [("mia", "Morning"), ("dan", "Dropped"), ("wes", "Waitlist"), ("olga", "Other")]
    )  # Olga is in the course and never books

    # The admin records meetings to the cloud, so there will be recordings.
    admin = browse(cast.admin)
    admin.goto(live_server.url + reverse("virtualmeeting:settings", args=["zoom"]))
    admin.get_by_label("Automatic recording").select_option(label="Cloud")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()

    # The trainer makes the event: two sessions in two days, each in a Zoom room, four seats and a waitlist.
    start1, start2 = tomorrow_at(10, days=2), tomorrow_at(14, days=2)  # Dan may cancel up to 24 hours before
    trainer = browse(cast.trainer)
    add_event(
        trainer,
        live_server,
        cast.seminar,
        name="Evacuation drill",
        capacity=4,
        waitlist=True,
        sessions=[(start1, 60, "UTC", "Morning room"), (start2, 60, "UTC", "Afternoon room")],
    )
    meetings = wait_for(lambda: len(live_meetings(zoom)) == 2 and live_meetings(zoom), what="the two Zoom meetings")
    meeting1, meeting2 = sorted(meetings, key=lambda meeting: meeting["start_time"])
    wait_for(
        lambda: VirtualMeeting.objects.filter(status="available", personal_links=True).count() == 2,
        what="both meetings available, with personal links",
    )
    event = SeminarEvent.objects.get(name="Evacuation drill")
    event_url = f"{live_server.url}/events/{event.pk}/"

    # The learners sign up on the event page; Dan cancels, and the seat goes to Wes.
    pages = {}
    for user in (lena, leo, mia, dan, wes):
        page = pages[user.get_full_name()] = browse(user)
        page.goto(event_url)
        page.get_by_role("button", name="Join waitlist" if user == wes else "Book").click()
        expect(page.get_by_text("Waitlisted" if user == wes else "Booked", exact=True)).to_be_visible()
    dan_page = pages.pop("Dan Dropped")
    dan_page.get_by_role("link", name="Cancel booking").click()
    dan_page.get_by_role("button", name="Cancel booking").click()
    expect(dan_page.get_by_text("Cancelled", exact=True)).to_be_visible()
    assert Booking.objects.get(event=event, user=wes).state == "booked"

    # Each seat holder is registered in each meeting; Dan's registrations are cancelled. Zoom mails nobody.
    registrants1 = wait_for(lambda: seats_registered(zoom, meeting1["id"]), what="meeting 1's registrants")
    registrants2 = wait_for(lambda: seats_registered(zoom, meeting2["id"]), what="meeting 2's registrants")

    # --- Session 1: the webhooks tell the site --------------------------------------------------------------
    with time_machine.travel(start1 - timedelta(minutes=15), tick=True):
        check_join_now(pages, event_url, registrants1)
        dan_page.goto(event_url)
        expect(dan_page.get_by_role("link", name="Join now")).to_have_count(0)

    finish1 = start1 + timedelta(minutes=60)
    with time_machine.travel(finish1 + timedelta(seconds=30), tick=True):
        links = {name.split()[0]: registrant["id"] for name, registrant in registrants1.items()}
        uuid1 = play_the_session(zoom, meeting1["id"], start1, links)
        zoom.add_recording(uuid1, passcode=RECORDING_PASSCODE)  # recording.completed
        session1, session2 = event.sessions.order_by("start")
        wait_for(
            lambda: SessionAttendance.objects.filter(session=session1, proposed_state__gt="").count() == 4,
            what="session 1's proposals from the webhooks",
        )
        wait_for(
            lambda: MeetingRecording.objects.filter(meeting__remote_id=str(meeting1["id"])).exists(),
            what="session 1's recording",
        )
        webhook_rows = MeetingParticipant.objects.filter(occurrence__uuid=uuid1).count()
        assert set(MeetingParticipant.objects.filter(occurrence__uuid=uuid1).values_list("source", flat=True)) == {
            "webhook"
        }

        check_sheet(trainer, event_url, "Morning room", start1)
        screenshot(trainer, "sign-in-sheet")
        # Leo says he followed on a colleague's screen for 20 minutes; the trainer believes him.
        trainer.get_by_label("Attendance of Leo Late").select_option(label="Partially attended")
        trainer.get_by_label("Minutes of Leo Late").fill("20")
        trainer.get_by_role("button", name="Confirm attendance").click()
        expect(trainer.get_by_text("Attendance confirmed (4 changes).")).to_be_visible()

        # One session of two is decided: the bookings' event-level state waits for the other.
        states = dict(Booking.objects.filter(event=event).values_list("user__username", "state"))
        assert states == {"lena": "booked", "leo": "booked", "mia": "booked", "wes": "booked", "dan": "user_cancelled"}

    # --- Session 2: no webhooks; the reconciliation poll brings the same -----------------------------------
    with time_machine.travel(start2 - timedelta(minutes=15), tick=True):
        check_join_now(pages, event_url, registrants2)

    zoom.set_webhooks(False)
    zoom.set_participants_delay(ZOOM_LIST_DELAY_SECONDS)
    finish2 = start2 + timedelta(minutes=60)
    with time_machine.travel(finish2 + timedelta(seconds=1), tick=True):
        links = {name.split()[0]: registrant["id"] for name, registrant in registrants2.items()}
        uuid2 = play_the_session(zoom, meeting2["id"], start2, links)
        zoom.add_recording(uuid2, passcode=RECORDING_PASSCODE)
        assert SessionAttendance.objects.filter(session=session2).count() == 0  # nothing told the site

        wait_for(
            beat(lambda: SessionAttendance.objects.filter(session=session2, proposed_state__gt="").count() == 4),
            what="session 2's proposals from the poll",
            timeout=90,
        )
        assert set(
            MeetingParticipant.objects.filter(occurrence__meeting__remote_id=str(meeting2["id"])).values_list(
                "source", flat=True
            )
        ) == {"poll"}

        check_sheet(trainer, event_url, "Afternoon room", start2)
        trainer.get_by_role("button", name="Confirm attendance").click()
        expect(trainer.get_by_text("Attendance confirmed (4 changes).")).to_be_visible()

        # Session 1's poll came too (it was due): Zoom's final list merged with what the webhooks stored,
        # nothing counted twice, and the trainer's decisions stand with nothing new beside them.
        wait_for(
            beat(lambda: MeetingOccurrence.objects.filter(uuid=uuid1, participants_done_at__isnull=False).exists()),
            what="session 1's poll",
        )
        assert MeetingParticipant.objects.filter(occurrence__uuid=uuid1).count() == webhook_rows
        trainer.goto(event_url)
        trainer.get_by_role("row").filter(has_text="Morning room").get_by_role("link", name="Sign-in sheet").click()
        expect(trainer.get_by_label("Attendance of Leo Late")).to_have_value("partially_attended")
        expect(trainer.get_by_label("Minutes of Leo Late")).to_have_value("20")
        expect(trainer.get_by_text("New meeting data since the confirmation")).to_have_count(0)

        # The trainer's decisions, session by session, with their evidence.
        decided = {
            (row.session_id, row.booking.user.username): (row.state, row.minutes, row.source, row.confirmed_by_id)
            for row in SessionAttendance.objects.select_related("booking__user")
        }
        T, R, N, M = cast.trainer.pk, AttendanceSource.REGISTRANT, AttendanceSource.NOT_SEEN, AttendanceSource.MANUAL
        for session in (session1, session2):
            assert decided[session.pk, "lena"] == ("fully_attended", 53, R, T)
            assert decided[session.pk, "mia"] == ("partially_attended", 43, R, T)
            assert decided[session.pk, "wes"] == ("fully_attended", 45, R, T)
        assert decided[session1.pk, "leo"] == ("partially_attended", 20, M, T)
        assert decided[session2.pk, "leo"] == ("no_show", 0, N, T)
        assert len(decided) == 8

        # The bookings' states and history: who, and for attendance the evidence and the deciding session.
        history = {}
        for change in BookingStateChange.objects.filter(booking__event=event).select_related(
            "booking__user", "changed_by"
        ):
            history.setdefault(change.booking.user.username, []).append(
                (change.state, change.changed_by.username, change.source, change.session_id)
            )
        s2 = session2.pk
        assert history == {
            "lena": [("booked", "lena", "", None), ("fully_attended", "edna", R, s2)],
            "leo": [("booked", "leo", "", None), ("partially_attended", "edna", N, s2)],
            "mia": [("booked", "mia", "", None), ("partially_attended", "edna", R, s2)],
            "dan": [("booked", "dan", "", None), ("user_cancelled", "dan", "", None)],
            # Promoted when Dan's cancellation freed the seat.
            "wes": [("waitlisted", "wes", "", None), ("booked", "dan", "", None), ("fully_attended", "edna", R, s2)],
        }

        # The recordings: both sessions', for the learners holding a seat, with the passcode that plays them.
        learner = pages["Lena Learner"]
        learner.goto(event_url)
        recordings = learner.get_by_role("region", name="Recordings")
        expect(recordings.get_by_test_id("recording")).to_have_count(4)  # video and audio of each session
        expect(recordings.get_by_text(f"Passcode: {RECORDING_PASSCODE}").first).to_be_visible()
        screenshot(learner, "event-recordings")
        with learner.expect_popup() as played_info:
            recordings.get_by_role("link", name="Play: Video").first.click()
        played = played_info.value
        played.get_by_label("Passcode").fill(RECORDING_PASSCODE)
        played.get_by_role("button").click()
        expect(played.get_by_role("heading", name=re.compile(r"^Recording: "))).to_be_visible()
        played.close()
        # Her attendance, as the trainer confirmed it, on "My sessions".
        learner.get_by_role("navigation", name="Main").get_by_role("link", name="My sessions").click()
        mine = learner.get_by_role("region", name="My attendance")
        expect(mine.get_by_role("row").filter(has_text="Fully attended").filter(has_text="53")).to_have_count(2)

        for outsider in (dan_page, browse(olga)):
            outsider.goto(event_url)
            expect(outsider.get_by_role("heading", name="Evacuation drill")).to_be_visible()
            expect(outsider.get_by_role("region", name="Recordings")).to_have_count(0)
            assert RECORDING_PASSCODE not in outsider.content()

        # In Zoom: Dan's registrations stay cancelled, and Zoom sent no email to anyone.
        for meeting in (meeting1, meeting2):
            assert seats_registered(zoom, meeting["id"]) is not None
        assert zoom.emails() == []
