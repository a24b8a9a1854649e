"""Forms of the event editor (event fields + one row per session) and of site rooms.

Forms parse what the browser sends; the rules live in seminars.services.
Session times are typed as local wall-clock time in the session's own zone and
turned into UTC here, at the edge.
"""

import json
import re
from datetime import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from seminars.models import EventTrainer, Room, SeminarEvent
from seminars.services.events import local_to_utc
from seminars.timezones import to_zone, validate_time_zone
from seminars.validators import (
    CAPACITY_MAX,
    CAPACITY_MESSAGE,
    CAPACITY_MIN,
    CUTOFF_HOURS_INVALID_MESSAGE,
    CUTOFF_HOURS_MAX,
    MINIMUM_ABOVE_CAPACITY_MESSAGE,
    MINIMUM_BOOKINGS_MESSAGE,
    REGISTRATION_ORDER_MESSAGE,
    ROOM_CAPACITY_MESSAGE,
    validate_capacity,
    validate_cutoff_hours,
    validate_minimum_bookings,
    validate_multi_line,
    validate_room_capacity,
    validate_session_local_year,
    validate_session_moment,
    validate_single_line,
)

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
ROOM_MODES = ("site", "adhoc", "new")
# A whole number as typed: ASCII digits only (no "²"), and not thousands of them (int() refuses those).
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,100}")


def _number_input(low: int, high: int) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high, "step": 1})


class LocalDateTimeField(forms.Field):
    """A naive wall-clock date and time (`<input type="datetime-local">`), not converted to any zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip().replace(" ", "T")
        for fmt in (LOCAL_FORMAT, LOCAL_FORMAT + ":%S"):
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            validate_session_local_year(parsed)
            return parsed
        raise ValidationError(_("Enter a date and time, e.g. 2026-03-29 09:00."), code="invalid")


class EventForm(forms.Form):
    # The one-time token of an "Add event" form: submitting the same form again finds the
    # event it created instead of creating another (seminars.services.events.event_create_once).
    form_token = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("This form is out of date: reload the page and enter the event again.")},
    )
    name = forms.CharField(
        label=_("Event name"),
        max_length=255,
        required=False,
        validators=[validate_single_line],
        help_text=_("Optional; shown with the seminar's name."),
    )
    details = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 4}), required=False, validators=[validate_multi_line]
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        initial=10,
        validators=[validate_capacity],
        widget=_number_input(CAPACITY_MIN, CAPACITY_MAX),
        error_messages={"invalid": CAPACITY_MESSAGE},
    )
    waitlist_enabled = forms.BooleanField(
        required=False, label=_("Enable waitlist"), help_text=_("When the event is full, learners join a waitlist.")
    )
    cancellation_policy = forms.ChoiceField(
        choices=SeminarEvent.CancellationPolicy.choices,
        initial=SeminarEvent.CancellationPolicy.CUTOFF,
        label=_("Learners may cancel"),
    )
    cancellation_cutoff_hours = forms.IntegerField(
        initial=24,
        validators=[validate_cutoff_hours],
        widget=_number_input(0, CUTOFF_HOURS_MAX),
        error_messages={"invalid": CUTOFF_HOURS_INVALID_MESSAGE},
        label=_("Cut-off (hours before the start)"),
        help_text=_("With the cut-off policy: how many hours before the first session cancelling closes."),
    )

    minimum_bookings = forms.IntegerField(
        label=_("Minimum bookings"),
        required=False,
        validators=[validate_minimum_bookings],
        widget=_number_input(CAPACITY_MIN, CAPACITY_MAX),
        error_messages={"invalid": MINIMUM_BOOKINGS_MESSAGE},
    )
    registration_opens_at = LocalDateTimeField(label=_("Registration opens"), required=False)
    registration_closes_at = LocalDateTimeField(label=_("Registration closes"), required=False)

    allow_trainer_conflicts = forms.BooleanField(
        required=False,
        label=_("Allow trainer conflicts"),
        help_text=_("Save even when a trainer also runs another event's session at the same time."),
    )

    REGISTRATION_FIELDS = ("registration_opens_at", "registration_closes_at")
    TRAINER_PREFIX = "trainer_"

    def __init__(self, *args, zone="UTC", staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        # One role choice per member of the course's staff: only they can run the course's events.
        for person in staff:
            self.fields[f"{self.TRAINER_PREFIX}{person.pk}"] = forms.ChoiceField(
                label=person.get_full_name() or person.get_username(),
                choices=[("", _("Not assigned")), *EventTrainer.Role.choices],
                required=False,
            )
        # Registration times are typed in the editor's own zone (sessions may each have another).
        self.zone = zone
        self.fields["registration_opens_at"].help_text = _(
            "Optional; in your time zone (%(zone)s). Before then learners see when registration opens."
        ) % {"zone": zone}
        self.fields["minimum_bookings"].help_text = ngettext_lazy(
            "Optional; the trainers are warned %(hours)d hour before the start when fewer learners are booked.",
            "Optional; the trainers are warned %(hours)d hours before the start when fewer learners are booked.",
            "hours",
        ) % {"hours": settings.SEMINARS_MINIMUM_WARNING_HOURS}
        self.fields["registration_closes_at"].help_text = _(
            "Optional; in your time zone (%(zone)s). Registration always closes when the first session starts."
        ) % {"zone": zone}

    def clean(self):
        cleaned = super().clean()
        for name in self.REGISTRATION_FIELDS:
            local = cleaned.get(name)
            if local is None:
                continue
            try:
                cleaned[name] = local_to_utc(local, self.zone)
                validate_session_moment(cleaned[name])
            except ValidationError as exc:
                self.add_error(name, exc)
        minimum, capacity = cleaned.get("minimum_bookings"), cleaned.get("capacity")
        if minimum is not None and capacity is not None and minimum > capacity:
            self.add_error("minimum_bookings", MINIMUM_ABOVE_CAPACITY_MESSAGE)
        opens, closes = cleaned.get("registration_opens_at"), cleaned.get("registration_closes_at")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("registration_closes_at", REGISTRATION_ORDER_MESSAGE)
        return cleaned

    @property
    def trainer_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(self.TRAINER_PREFIX)]

    def trainer_field_name(self, user_id: int) -> str:
        return f"{self.TRAINER_PREFIX}{user_id}"

    def chosen_trainers(self) -> dict[int, str]:
        """{user id: role} of the people given a role (after is_valid)."""
        return {
            int(name.removeprefix(self.TRAINER_PREFIX)): role
            for name, role in self.cleaned_data.items()
            if name.startswith(self.TRAINER_PREFIX) and role
        }

    @classmethod
    def initial_for(cls, event: SeminarEvent, zone: str = "UTC") -> dict:
        initial = {
            name: getattr(event, name)
            for name in cls.base_fields
            if name not in ("form_token", "allow_trainer_conflicts")
        }
        for name in cls.REGISTRATION_FIELDS:
            if initial[name] is not None:
                initial[name] = to_zone(initial[name], zone).replace(tzinfo=None)
        for user_id, role in event.trainers.values_list("user_id", "role"):
            initial[f"{cls.TRAINER_PREFIX}{user_id}"] = role
        return initial


class SessionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    start = LocalDateTimeField(label=_("Start"))
    finish = LocalDateTimeField(label=_("Finish"))
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "zone-names", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Start and finish are local times in this zone. "
            "A time that happens twice when the clocks go back means its first occurrence."
        ),
    )
    room = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-room-choice": ""}))

    def __init__(self, *args, default_zone="UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = default_zone

    def clean_time_zone(self):
        zone = self.cleaned_data["time_zone"].strip()
        validate_time_zone(zone)
        return zone

    def clean_room(self):
        raw = self.cleaned_data.get("room") or ""
        if not raw.strip():
            return None
        return parse_room_choice(raw)

    def clean(self):
        cleaned = super().clean()
        zone = cleaned.get("time_zone")
        if not zone:
            return cleaned
        for name in ("start", "finish"):
            local = cleaned.get(name)
            if local is None:
                continue
            try:
                moment = local_to_utc(local, zone)
                validate_session_moment(moment)
            except ValidationError as exc:
                self.add_error(name, exc)
            else:
                cleaned[f"{name}_utc"] = moment
        return cleaned

    @property
    def room_choice(self) -> dict | None:
        """The row's room choice as the page shows it (from the posted value or the initial one)."""
        raw = self["room"].value() or ""
        try:
            return parse_room_choice(raw) if raw.strip() else None
        except ValidationError:
            return None

    def as_service_row(self, row: int) -> dict:
        data = self.cleaned_data
        return {
            "row": row,
            "id": data.get("id"),
            "start": data["start_utc"],
            "finish": data["finish_utc"],
            "time_zone": data["time_zone"],
            "room": data.get("room"),
        }


# The most alternative hosts a room choice may list at all (more than the rooms' own limit, said beside the room).
ALTERNATIVE_HOSTS_LISTED = 50


def parse_room_choice(raw: str) -> dict:
    """The hidden room input of a session row: JSON naming a site room, an ad-hoc room or a new one."""
    invalid = ValidationError(_("The room choice is not valid. Select the room again."))
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        raise invalid from None
    if not isinstance(value, dict) or value.get("mode") not in ROOM_MODES:
        raise invalid
    choice = {"mode": value["mode"]}
    if value["mode"] in ("site", "adhoc"):
        room_id = _whole_number(value.get("id"))
        if room_id is None:
            raise invalid
        choice["id"] = room_id
    text_fields = ("name",) if value["mode"] == "site" else ("name", "description", "virtual_kind", "virtual_url")
    for name in text_fields:
        choice[name] = str(value.get(name) or "")
        if not _is_unicode_text(choice[name]):
            raise invalid  # a lone surrogate (JSON "\ud800"): no page or database could hold it
    if value["mode"] != "site":
        choice["capacity"] = _whole_number(value.get("capacity"))
        if "virtual_host" in value:
            # The host chosen in the site's account (the provider's user id); checked with the provider on save.
            choice["virtual_host"] = str(value.get("virtual_host") or "")
            if not _is_unicode_text(choice["virtual_host"]):
                raise invalid
        if "virtual_alternative_hosts" in value:
            # Emails (or ids) of users of the site's account; checked with the provider on save (at most
            # ALTERNATIVE_HOSTS_MAX, said beside the room: a longer list is no list a dialog makes).
            named = value.get("virtual_alternative_hosts")
            if not isinstance(named, list) or len(named) > ALTERNATIVE_HOSTS_LISTED:
                raise invalid
            if not all(isinstance(item, str) and len(item) <= 254 and _is_unicode_text(item) for item in named):
                raise invalid
            choice["virtual_alternative_hosts"] = list(named)
    return choice


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _whole_number(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


def room_choice_for(room: Room | None) -> str:
    """The hidden input's initial value for a saved session's room."""
    if room is None:
        return ""
    if room.is_site_room:
        return json.dumps({"mode": "site", "id": room.pk, "name": room.name})
    return json.dumps(
        {
            "mode": "adhoc",
            "id": room.pk,
            "name": room.name,
            "capacity": room.capacity,
            "description": room.description,
            "virtual_kind": room.virtual_kind,
            "virtual_url": room.virtual_url,
            "in_site_account": room.in_site_account,
            "virtual_alternative_hosts": list(room.virtual_alternative_hosts),
        }
    )


def session_initial(session) -> dict:
    return {
        "id": session.pk,
        "start": to_zone(session.start, session.time_zone).replace(tzinfo=None),
        "finish": to_zone(session.finish, session.time_zone).replace(tzinfo=None),
        "time_zone": session.time_zone,
        "room": room_choice_for(session.room),
    }


SessionFormSet = formset_factory(SessionForm, extra=0, can_delete=True)


class SiteRoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255, validators=[validate_single_line])
    capacity = forms.IntegerField(
        label=_("Capacity"),
        validators=[validate_room_capacity],
        widget=_number_input(CAPACITY_MIN, CAPACITY_MAX),
        error_messages={"invalid": ROOM_CAPACITY_MESSAGE},
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        validators=[validate_multi_line],
    )
    allow_conflicts = forms.BooleanField(
        label=_("Allow conflicts"),
        required=False,
        help_text=_("Allow sessions of different events to use this room at the same time."),
    )
    virtual_kind = forms.CharField(
        required=False,
        label=_("Add virtual room link"),
        widget=forms.Select(choices=[("", _("None")), (Room.CUSTOM_LINK, _("Custom link"))]),
        help_text=_("Meeting providers such as Zoom can only be used on ad-hoc rooms created inside an event."),
    )
    virtual_url = forms.CharField(
        required=False, max_length=1000, label=_("Custom link"), validators=[validate_single_line]
    )

    @classmethod
    def initial_for(cls, room: Room) -> dict:
        return {name: getattr(room, name) for name in cls.base_fields}
