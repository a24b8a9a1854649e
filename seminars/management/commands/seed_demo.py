"""Demo data: a site admin, two trainers, five learners, a course with a seminar and events in four zones.

Idempotent: every object is looked up by its natural name first, so running the
command again creates nothing new and changes nothing (session times are set
only when an event is first created; passwords only when a user is first created).
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from seminars.models import (
    Booking,
    Course,
    Enrolment,
    EventTrainer,
    Notification,
    Profile,
    Room,
    Seminar,
    SeminarEvent,
    Session,
)
from seminars.services.bookings import booking_create

PASSWORD = "demo-password-123"

# username, first name, last name, course role (None: site admin, not enrolled), time zone
PEOPLE = [
    ("admin", "Ada", "Admin", None, "UTC"),
    ("trainer1", "Tess", "Trainer", Enrolment.Role.EDITING_TRAINER, "Europe/London"),
    ("trainer2", "Theo", "Trainer", Enrolment.Role.TRAINER, "America/New_York"),
    ("learner1", "Lara", "Learner", Enrolment.Role.LEARNER, "Europe/London"),
    ("learner2", "Liam", "Learner", Enrolment.Role.LEARNER, "America/New_York"),
    ("learner3", "Lucia", "Learner", Enrolment.Role.LEARNER, "Asia/Tokyo"),
    ("learner4", "Leon", "Learner", Enrolment.Role.LEARNER, "Australia/Sydney"),
    ("learner5", "Lena", "Learner", Enrolment.Role.LEARNER, "UTC"),
]

SITE_ROOMS = [
    ("Training Room A", 12, "Ground floor, next to reception. Projector and whiteboard."),
    ("Boardroom", 8, "Third floor. Video conferencing screen."),
]

# Sessions are (days from today, local start hour, minutes). A room name starting with "adhoc:" is an
# ad-hoc room of the event; others are site rooms. Learners sign up in the order given: the New York
# event has two seats and three sign-ups, so the third learner is waitlisted.
EVENTS = [
    {
        "name": "London spring intake",
        "zone": "Europe/London",
        "capacity": 10,
        "waitlist": False,
        "room": "Training Room A",
        "sessions": [(7, 9, 180), (8, 9, 180)],
        "signups": ["learner1", "learner2"],
        "trainers": {"trainer1": EventTrainer.Role.TRAINER, "trainer2": EventTrainer.Role.FACILITATOR},
    },
    {
        "name": "New York evening course",
        "zone": "America/New_York",
        "capacity": 2,
        "waitlist": True,
        "room": "Boardroom",
        "sessions": [(10, 17, 120)],
        "signups": ["learner1", "learner3", "learner4"],
    },
    {
        "name": "Tokyo office session",
        "zone": "Asia/Tokyo",
        "capacity": 8,
        "waitlist": False,
        "room": "adhoc:Tokyo office, meeting room 3",
        "sessions": [(14, 10, 120), (15, 10, 120)],
        "signups": ["learner3"],
    },
    {
        "name": "Sydney morning session",
        "zone": "Australia/Sydney",
        "capacity": 6,
        "waitlist": False,
        "room": "Training Room A",
        "sessions": [(21, 9, 150)],
        "signups": ["learner4", "learner5"],
    },
]


class Command(BaseCommand):
    help = "Load demo users, a course, a seminar with events in four time zones, rooms and bookings (idempotent)."

    def handle(self, *args, **options):
        # Sign-ups go through the booking service (its rules decide booked or waitlisted);
        # the demo addresses are fictional, so its confirmation emails are discarded.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
            users = self._people()
            course = self._course(users)
            rooms = self._site_rooms()
            seminar, _ = Seminar.objects.get_or_create(
                course=course,
                name="Fire warden training",
                defaults={
                    "description": "What a fire warden does before, during and after an evacuation: "
                    "raising the alarm, sweeping an area, the assembly point and the roll call."
                },
            )
            for spec in EVENTS:
                self._event(seminar, spec, users, rooms)
        self._print_logins()

    def _people(self):
        User = get_user_model()
        manage_site = Permission.objects.get(codename="manage_site", content_type__app_label="seminars")
        users = {}
        for username, first, last, role, zone in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.com")
                user.set_password(PASSWORD)
                if role is None:
                    user.is_staff = user.is_superuser = True
                user.save()
                self.stdout.write(f"Created user {username}")
            if role is None and not user.user_permissions.filter(pk=manage_site.pk).exists():
                user.user_permissions.add(manage_site)
            Profile.objects.get_or_create(user=user, defaults={"time_zone": zone})
            users[username] = user
        return users

    def _course(self, users):
        course, created = Course.objects.get_or_create(
            name="Workplace Safety",
            defaults={
                "short_name": "SAFETY-101",
                "summary": "Everything staff need to keep the workplace safe: fire wardens, first aid and evacuation drills.",
                "allow_self_enrolment": True,
            },
        )
        if created:
            self.stdout.write("Created course Workplace Safety")
        for username, _first, _last, role, _zone in PEOPLE:
            if role is not None:
                Enrolment.objects.get_or_create(course=course, user=users[username], defaults={"role": role})
        return course

    def _site_rooms(self):
        rooms = {}
        for name, capacity, description in SITE_ROOMS:
            room, _ = Room.objects.get_or_create(
                name=name, event__isnull=True, defaults={"capacity": capacity, "description": description}
            )
            rooms[name] = room
        return rooms

    def _event(self, seminar, spec, users, rooms):
        name, zone = spec["name"], spec["zone"]
        event, created = SeminarEvent.objects.get_or_create(
            seminar=seminar,
            name=name,
            defaults={
                "capacity": spec["capacity"],
                "waitlist_enabled": spec["waitlist"],
                "details": f"Held in {zone.split('/')[-1].replace('_', ' ')}; bring your site pass.",
                "created_by": users["trainer1"],
            },
        )
        if created:
            self.stdout.write(f"Created event {name}")
        if not event.sessions.exists():
            room = self._room_for(event, spec["room"], rooms, users["trainer1"])
            today = timezone.now().astimezone(ZoneInfo(zone)).date()
            for days, hour, minutes in spec["sessions"]:
                start = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=ZoneInfo(zone))
                Session.objects.create(
                    event=event, start=start, finish=start + timedelta(minutes=minutes), time_zone=zone, room=room
                )
        for username, role in spec.get("trainers", {}).items():
            EventTrainer.objects.get_or_create(event=event, user=users[username], defaults={"role": role})
        for username in spec["signups"]:
            self._signup(event, users[username])

    def _room_for(self, event, room_name, rooms, creator):
        if not room_name.startswith("adhoc:"):
            return rooms[room_name]
        room, _ = Room.objects.get_or_create(
            name=room_name.removeprefix("adhoc:"), event=event, defaults={"capacity": 8, "created_by": creator}
        )
        return room

    def _signup(self, event, user):
        if Booking.objects.filter(event=event, user=user).exists():
            return
        booking = booking_create(event=event, user=user, actor=user)
        verb = "booked on" if booking.state == Booking.State.BOOKED else "waitlisted for"
        Notification.objects.create(
            user=user,
            subject=f"You are {verb} {event.seminar.name}: {event.title}",
            body="See the event page for the session times and the room.",
            url=event.get_absolute_url(),
        )

    def _print_logins(self):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {PASSWORD})"))
        for username, first, last, role, _zone in PEOPLE:
            what = "site admin" if role is None else Enrolment.Role(role).label.lower()
            self.stdout.write(f"  {username:<10} {first} {last}, {what}")
