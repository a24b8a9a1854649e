"""The event editor (event fields + session rows with the room dialog's JSON), site rooms, and
the room dialog's "Choose" list under hostile input."""

import json
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, post_form, rolled_back, send
from tests.fuzz.strategies import (
    hostile_bool_text,
    hostile_date_text,
    hostile_int_text,
    hostile_json_text,
    hostile_pk,
    hostile_text,
    hostile_zone,
    json_value,
    mutated,
    valid_zone,
)

LOCAL = "%Y-%m-%dT%H:%M"
EVENT = {
    "name": "Spring intake",
    "details": "Bring boots.\r\nAnd a hat.",
    "capacity": "10",
    "waitlist_enabled": "on",
    "cancellation_policy": "cutoff",
    "cancellation_cutoff_hours": "24",
    "minimum_bookings": "2",
    "registration_opens_at": "2030-05-01T09:00",
    "registration_closes_at": "2030-06-01T09:00",
}
EVENT_FIELDS = {
    "form_token": st.one_of(st.uuids().map(str), hostile_text),
    "name": hostile_text,
    "details": hostile_text,
    "capacity": hostile_int_text,
    "waitlist_enabled": hostile_bool_text,
    "cancellation_policy": st.one_of(st.sampled_from(["cutoff", "anytime", "never", "CUTOFF"]), hostile_text),
    "cancellation_cutoff_hours": hostile_int_text,
    "minimum_bookings": hostile_int_text,
    "registration_opens_at": hostile_date_text,
    "registration_closes_at": hostile_date_text,
    "sessions-TOTAL_FORMS": hostile_int_text,
    "sessions-INITIAL_FORMS": hostile_int_text,
    "sessions-MIN_NUM_FORMS": hostile_int_text,
    "sessions-MAX_NUM_FORMS": hostile_int_text,
}
ROOM_KEYS = [
    "mode",
    "id",
    "name",
    "capacity",
    "description",
    "virtual_kind",
    "virtual_url",
    "virtual_host",
    "virtual_alternative_hosts",
    "in_site_account",
]


def _local(moment: datetime) -> str:
    return moment.strftime(LOCAL)


valid_start = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 1)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)


def _adhoc_choice(room) -> dict:
    return {
        "mode": "adhoc",
        "id": room.pk,
        "name": room.name,
        "capacity": room.capacity,
        "description": room.description,
        "virtual_kind": room.virtual_kind,
        "virtual_url": room.virtual_url,
    }


new_room_choice = st.fixed_dictionaries(
    {
        "mode": st.just("new"),
        "name": st.sampled_from(["Pop-up room", "Hall B"]),
        "capacity": st.integers(1, 200),
        "description": st.sampled_from(["", "By the lifts.\nTurn left."]),
        "virtual_kind": st.sampled_from(["", "custom", "zoom"]),
    }
).map(lambda room: {**room, "virtual_url": "https://meet.example.com/y" if room["virtual_kind"] == "custom" else ""})


def room_choices(scene, *, editing: bool) -> st.SearchStrategy[dict]:
    """What the room dialog sends: the site room, one of the event's ad-hoc rooms (when editing), or a new one."""
    site = st.just({"mode": "site", "id": scene.site_room.pk, "name": scene.site_room.name})
    if not editing:
        return st.one_of(new_room_choice, site)
    return st.one_of(new_room_choice, site, st.just(_adhoc_choice(scene.adhoc_room)))


def hostile_room(scene) -> st.SearchStrategy[str]:
    """The hidden room input: a choice with one key broken (any JSON type), a room the event may
    not use (another event's, an ad-hoc room as a site room), or no choice at all."""
    someone_elses = st.sampled_from(
        [
            _adhoc_choice(scene.other_room),
            _adhoc_choice(scene.zoom_room),
            _adhoc_choice(scene.site_room),
            {"mode": "site", "id": scene.adhoc_room.pk, "name": "x"},
            {"mode": "site", "id": scene.other_room.pk, "name": "x"},
        ]
    )

    @st.composite
    def broken(draw):
        room = dict(draw(st.one_of(room_choices(scene, editing=True), someone_elses)))
        key = draw(st.sampled_from(ROOM_KEYS))
        if draw(st.booleans()):
            room.pop(key, None)
        else:
            room[key] = draw(json_value)
        return json.dumps(room)

    return st.one_of(broken(), someone_elses.map(json.dumps), hostile_json_text)


@st.composite
def session_rows(draw, scene, *, ids: list[int]) -> list[dict]:
    """One to three well-formed session rows (the first ones keep the event's session ids)."""
    rows = []
    for index in range(draw(st.integers(1, 3))):
        start = draw(valid_start)
        zone = draw(st.one_of(st.just("UTC"), valid_zone))
        room = draw(st.one_of(st.none(), room_choices(scene, editing=bool(ids))))
        rows.append(
            {
                "start": _local(start),
                "finish": _local(start + timedelta(minutes=draw(st.integers(15, 600)))),
                "time_zone": zone,
                "id": str(ids[index]) if index < len(ids) else "",
                "room": json.dumps(room) if room else "",
            }
        )
    return rows


def editor_data(rows: list[dict], *, initial: int) -> dict:
    data = {
        **EVENT,
        "sessions-TOTAL_FORMS": str(len(rows)),
        "sessions-INITIAL_FORMS": str(initial),
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"sessions-{index}-{name}": value for name, value in row.items()})
    return data


MANAGEMENT = ("sessions-TOTAL_FORMS", "sessions-INITIAL_FORMS", "sessions-MIN_NUM_FORMS", "sessions-MAX_NUM_FORMS")


ROW_FIELD_NAMES = ("start", "finish", "time_zone", "id", "room", "DELETE")


def row_fields(scene, index: int) -> dict:
    prefix = f"sessions-{index}-"
    session_id = st.one_of(st.sampled_from(scene.ids["session"]).map(str), hostile_pk().map(str), hostile_int_text)
    return {
        prefix + "start": hostile_date_text,
        prefix + "finish": hostile_date_text,
        prefix + "time_zone": hostile_zone,
        prefix + "id": session_id,
        prefix + "room": hostile_room(scene),
        prefix + "DELETE": hostile_bool_text,
    }


@st.composite
def event_form(draw, scene, *, ids: list[int]) -> dict:
    """Well-formed rows, then the event's own fields broken, or one row's (including a row the
    management form does not count), or the management form's, or a mix; or nothing broken."""
    rows = draw(session_rows(scene, ids=ids))
    data = editor_data(rows, initial=len(ids))
    event_fields = {name: strategy for name, strategy in EVENT_FIELDS.items() if name not in MANAGEMENT}
    target = draw(st.sampled_from(["event", "event", "row", "row", "management", "mixed", "valid"]))
    if target == "valid":
        return data
    if target == "event":
        fields = event_fields
    elif target == "row":
        fields = row_fields(scene, draw(st.integers(0, len(rows))))
    elif target == "management":
        fields = {name: EVENT_FIELDS[name] for name in MANAGEMENT}
    else:
        fields = {**EVENT_FIELDS, **{k: v for i in range(len(rows) + 1) for k, v in row_fields(scene, i).items()}}
    return draw(mutated(data, fields))


@fuzzes("seminars:event_add")
@fuzz_settings(40)
@given(data=st.data())
def test_event_add(scene, data):
    post_form(
        scene.editor,
        reverse("seminars:event_add", args=[scene.seminar.pk]),
        data.draw(event_form(scene, ids=[])),
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:event_edit")
@fuzz_settings(40)
@given(data=st.data())
def test_event_edit(scene, data):
    ids = list(scene.event.sessions.order_by("start").values_list("pk", flat=True))
    post_form(
        scene.editor,
        reverse("seminars:event_edit", args=[scene.event.pk]),
        data.draw(event_form(scene, ids=ids)),
        untouchable=scene.other_course_rows(),
    )


ALTERNATIVE_HOSTS = st.one_of(
    st.lists(
        st.one_of(st.sampled_from(["kept@example.com", "KEPT@example.com", "new@example.com", "", " "]), hostile_text),
        max_size=12,
    ),
    json_value,
)


@fuzzes("seminars:event_edit")
@fuzz_settings(40)
@given(data=st.data())
def test_event_edit_alternative_hosts(scene, data):
    """A room in the site's Zoom account (one alternative host kept) saved with whatever alternative hosts, Zoom
    down: a newly named one cannot be asked about, so the save is refused and writes nothing; keeping or removing
    them needs no call."""
    from seminars.models import Room
    from virtualmeeting.models import ProviderConfig

    ids = list(scene.event.sessions.order_by("start").values_list("pk", flat=True))
    rows = data.draw(session_rows(scene, ids=ids))
    room = {**_adhoc_choice(scene.adhoc_room), "virtual_kind": "zoom"}
    room["virtual_alternative_hosts"] = data.draw(ALTERNATIVE_HOSTS)
    rows[0]["room"] = json.dumps(room)
    with rolled_back():
        ProviderConfig.objects.filter(provider="zoom").update(
            hosting="account", account_id="acct-1", account_client_id="s2s-id", account_client_secret="s2s-secret"
        )
        Room.objects.filter(pk=scene.adhoc_room.pk).update(
            virtual_kind="zoom",
            virtual_hosting="account",
            virtual_host="hOsT-1",
            virtual_host_email="host@example.com",
            virtual_alternative_hosts=["kept@example.com"],
        )
        response = post_form(
            scene.editor,
            reverse("seminars:event_edit", args=[scene.event.pk]),
            editor_data(rows, initial=len(ids)),
            untouchable=scene.other_course_rows(),
        )
        named = room["virtual_alternative_hosts"]
        if isinstance(named, list) and any(
            isinstance(n, str) and n.strip().casefold() not in ("", "kept@example.com") for n in named
        ):
            assert response.status_code == 200  # Zoom cannot be asked about someone new: refused


ROLES = st.one_of(st.sampled_from(["", "trainer", "facilitator", "Trainer", "editingtrainer"]), hostile_text)


def trainer_fields(scene) -> dict:
    """The trainer choices: the course's staff (offered), a learner and an outsider (never offered),
    a number that is nobody, and the override."""
    people = [scene.editor, scene.trainer, scene.learner, scene.outsider]
    fields = {f"trainer_{person.pk}": ROLES for person in people}
    fields["trainer_999999"] = ROLES
    fields["allow_trainer_conflicts"] = hostile_bool_text
    return fields


@st.composite
def trainers_form(draw, scene, *, ids: list[int]) -> dict:
    """Well-formed rows, the first sometimes at the time of a session Tom runs in another course,
    with the staff given roles; then the trainer choices broken (or not)."""
    rows = draw(session_rows(scene, ids=ids))
    if draw(st.booleans()):
        overlap = scene.other_session.start + timedelta(minutes=draw(st.sampled_from([-60, -30, 0, 30, 60])))
        rows[0].update(start=_local(overlap), finish=_local(overlap + timedelta(hours=1)), time_zone="UTC", room="")
    data = editor_data(rows, initial=len(ids))
    for person in (scene.editor, scene.trainer):
        data[f"trainer_{person.pk}"] = draw(st.sampled_from(["", "trainer", "facilitator"]))
    if draw(st.booleans()):
        return data
    return draw(mutated(data, trainer_fields(scene)))


@fuzzes("seminars:event_edit", "seminars:event_add")
@fuzz_settings(40)
@given(data=st.data())
def test_event_trainers(scene, data):
    from seminars.models import EventTrainer

    # Tom runs the other course's event: a row at its time makes him double-booked.
    EventTrainer.objects.get_or_create(event=scene.other_event, user=scene.trainer)
    editing = data.draw(st.booleans())
    ids = list(scene.event.sessions.order_by("start").values_list("pk", flat=True)) if editing else []
    url = (
        reverse("seminars:event_edit", args=[scene.event.pk])
        if editing
        else reverse("seminars:event_add", args=[scene.seminar.pk])
    )
    post_form(scene.editor, url, data.draw(trainers_form(scene, ids=ids)), untouchable=scene.other_course_rows())


SITE_ROOM = {
    "name": "Hall B",
    "capacity": "40",
    "description": "First floor.\r\nStep-free.",
    "allow_conflicts": "on",
    "virtual_kind": "custom",
    "virtual_url": "https://meet.example.com/hall-b",
}
SITE_ROOM_FIELDS = {
    "name": hostile_text,
    "capacity": hostile_int_text,
    "description": hostile_text,
    "allow_conflicts": hostile_bool_text,
    "virtual_kind": st.one_of(st.sampled_from(["", "custom", "zoom", "Custom"]), hostile_text),
    "virtual_url": st.one_of(
        st.sampled_from(["https://meet.example.com/x", "ftp://x", "javascript:alert(1)", "https://exa mple.com"]),
        hostile_text,
    ),
}


def site_room_form():
    return st.one_of(
        mutated(SITE_ROOM, SITE_ROOM_FIELDS),
        mutated(SITE_ROOM, SITE_ROOM_FIELDS),
        st.fixed_dictionaries({}, optional=SITE_ROOM_FIELDS),
        st.just(SITE_ROOM),
    )


@fuzzes("seminars:site_room_add")
@fuzz_settings(20)
@given(data=site_room_form())
def test_site_room_add(scene, data):
    post_form(scene.admin, reverse("seminars:site_room_add"), data)


@fuzzes("seminars:site_room_edit")
@fuzz_settings(20)
@given(data=site_room_form())
def test_site_room_edit(scene, data):
    post_form(scene.admin, reverse("seminars:site_room_edit", args=[scene.site_room.pk]), data)


def rooms_available_fields(scene) -> dict:
    return {
        "start": hostile_date_text,
        "finish": hostile_date_text,
        "zone": hostile_zone,
        "event": st.one_of(st.sampled_from(scene.ids["event"]).map(str), hostile_pk().map(str), hostile_int_text),
    }


@fuzzes("seminars:rooms_available")
@fuzz_settings(30)
@given(data=st.data())
def test_rooms_available(scene, data):
    start = data.draw(valid_start)
    query = {
        "start": _local(start),
        "finish": _local(start + timedelta(hours=2)),
        "zone": "Europe/London",
        "event": str(scene.event.pk),
    }
    fields = rooms_available_fields(scene)
    query = data.draw(st.one_of(mutated(query, fields), st.just(query)))
    with rolled_back():
        client = client_for(scene.editor)
        response = check(
            lambda: send(client, "GET", reverse("seminars:rooms_available"), query), may_write=lambda r: False
        )
    if response.status_code == 200:
        assert set(response.json()) == {"rooms", "adhoc"}
    elif response.status_code == 400:
        assert response.json()["error"]


# --- The valid data the mutations start from is accepted ------------------------------------------


def test_the_event_editor_accepts_what_the_strategy_calls_valid(scene):
    """Rows from `session_rows` with rooms the editor may use: the event is saved."""
    rows = [
        {
            "start": "2030-06-10T09:00",
            "finish": "2030-06-10T10:00",
            "time_zone": "Europe/London",
            "id": "",
            "room": json.dumps({"mode": "site", "id": scene.site_room.pk, "name": "Training room 1"}),
        },
        {
            "start": "2030-06-11T09:00",
            "finish": "2030-06-11T10:00",
            "time_zone": "UTC",
            "id": "",
            "room": json.dumps(
                {
                    "mode": "new",
                    "name": "Pop-up",
                    "capacity": 5,
                    "description": "",
                    "virtual_kind": "custom",
                    "virtual_url": "https://meet.example.com/y",
                }
            ),
        },
    ]
    client = client_for(scene.editor)
    response = send(
        client, "POST", reverse("seminars:event_add", args=[scene.seminar.pk]), editor_data(rows, initial=0)
    )
    assert response.status_code == 302
    ids = [str(pk) for pk in scene.event.sessions.order_by("start").values_list("pk", flat=True)]
    # The same rows a year later (the site room is taken by the new event at the first time).
    rows = [
        {**row, "id": session_id, "start": "2031" + row["start"][4:], "finish": "2031" + row["finish"][4:]}
        for row, session_id in zip(rows, ids, strict=True)
    ]
    response = send(client, "POST", reverse("seminars:event_edit", args=[scene.event.pk]), editor_data(rows, initial=2))
    assert response.status_code == 302


@pytest.mark.parametrize("route", ["seminars:site_room_add", "seminars:site_room_edit"])
def test_the_site_room_baseline_is_accepted(scene, route):
    args = [scene.site_room.pk] if route.endswith("edit") else []
    response = send(client_for(scene.admin), "POST", reverse(route, args=args), SITE_ROOM)
    assert response.status_code == 302
