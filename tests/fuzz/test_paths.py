"""Every route, as every member of the cast, with ids that exist, that the viewer may not see,
or that no column can hold, by any method, with stray query and form fields.

The forms' own fields are fuzzed in the other modules; this one reaches what only the path,
the method and the query string carry (ids, pagination, `past`, `next`, the OAuth callback's
parameters), and checks that nobody's refusal writes and that reads never write.
"""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.email_types import EMAIL_TYPES
from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, is_refusal, rolled_back, send
from tests.fuzz.strategies import hostile_int_text, hostile_pk, hostile_text

PROVIDER_IDS = ["zoom", "nope", "ZOOM", "zoom.", "%00", "..", "\u00e9"]

# route: (its path arguments and the kind of row each names, the query fields it reads)
ROUTES = {
    "seminars:dashboard": ({}, ("booked_page", "run_page")),
    "seminars:courses": ({}, ()),
    "seminars:course_add": ({}, ()),
    "seminars:course": ({"pk": "course"}, ()),
    "seminars:course_edit": ({"pk": "course"}, ()),
    "seminars:course_delete": ({"pk": "course"}, ()),
    "seminars:self_enrol": ({"pk": "course"}, ()),
    "seminars:participants": ({"pk": "course"}, ()),
    "seminars:participant_role": ({"pk": "course", "enrolment_pk": "enrolment"}, ()),
    "seminars:participant_remove": ({"pk": "course", "enrolment_pk": "enrolment"}, ()),
    "seminars:seminar_add": ({"course_pk": "course"}, ()),
    "seminars:seminar": ({"pk": "seminar"}, ("past", "page")),
    "seminars:seminar_edit": ({"pk": "seminar"}, ()),
    "seminars:seminar_delete": ({"pk": "seminar"}, ()),
    "seminars:profile": ({}, ()),
    "seminars:notifications": ({}, ()),
    "seminars:notification_open": ({"pk": "notification"}, ()),
    "seminars:event_add": ({"seminar_pk": "seminar"}, ()),
    "seminars:event_edit": ({"pk": "event"}, ()),
    "seminars:event_cancel": ({"pk": "event"}, ()),
    "seminars:event_delete": ({"pk": "event"}, ()),
    "seminars:site_rooms": ({}, ()),
    "seminars:site_room_add": ({}, ()),
    "seminars:rooms_available": ({}, ("start", "finish", "zone", "event")),
    "seminars:room": ({"pk": "room"}, ()),
    "seminars:site_room_edit": ({"pk": "room"}, ()),
    "seminars:site_room_delete": ({"pk": "room"}, ()),
    "seminars:event": ({"pk": "event"}, ()),
    "seminars:event_book": ({"pk": "event"}, ()),
    "seminars:attendance": ({"pk": "event"}, ()),
    "seminars:booking_cancel": ({"pk": "booking"}, ()),
    "seminars:event_attendees": ({"pk": "event"}, ("q",)),
    "seminars:attendees_preview": ({"pk": "event"}, ("text", "enrol", "over_capacity")),
    "seminars:attendees_add": ({"pk": "event"}, ("add", "enrol", "over_capacity")),
    "seminars:attendee_remove": ({"pk": "booking"}, ("reason",)),
    "seminars:attendee_move": ({"pk": "booking"}, ("reason", "to_event")),
    "seminars:approvals": ({}, ("page",)),
    "seminars:approvals_decide": ({}, ("booking", "decision", "reason", "event")),
    "seminars:booking_withdraw": ({"pk": "booking"}, ()),
    "seminars:virtual_join": ({"pk": "session"}, ()),
    "seminars:virtual_host": ({"pk": "session"}, ()),
    "seminars:room_card": ({"pk": "room"}, ()),
    "seminars:room_retry": ({"pk": "room"}, ()),
    "seminars:session_card": ({"pk": "session"}, ()),
    "seminars:session_retry": ({"pk": "session"}, ()),
    "seminars:session_attendance": ({"pk": "session"}, ()),
    "seminars:session_attendance_csv": ({"pk": "session"}, ()),
    "seminars:session_participant_match": ({"pk": "session"}, ("occurrence", "participant_key", "match", "undo")),
    "seminars:calendar_feed": ({"token": "feed_token"}, ()),
    "seminars:calendar_feed_reset": ({}, ()),
    "seminars:email_templates": ({}, ()),
    "seminars:email_template_edit": ({"key": "email_type"}, ("subject", "body", "event", "action")),
    "seminars:email_template_reset": ({"key": "email_type"}, ()),
    "seminars:seminar_emails": ({"pk": "seminar"}, ()),
    "seminars:seminar_email_edit": ({"pk": "seminar", "key": "email_type"}, ("subject", "body", "event", "action")),
    "seminars:seminar_email_reset": ({"pk": "seminar", "key": "email_type"}, ()),
    "seminars:seminar_email_switch": ({"pk": "seminar", "key": "email_type"}, ("on",)),
    "seminars:handovers": ({}, ("page",)),
    "seminars:handover": ({"pk": "handover"}, ()),
    "seminars:owner_handover": ({"user_id": "user"}, ("provider", "host_q", "target", "to_owner", "to_host")),
    "seminars:room_handover": ({"pk": "room"}, ("host_q", "target", "to_owner", "to_host", "reason")),
    "virtualmeeting:settings_index": ({}, ()),
    "virtualmeeting:settings": ({"provider_id": "provider"}, ()),
    "virtualmeeting:connect": ({"provider_id": "provider"}, ()),
    "virtualmeeting:auth_callback": ({"provider_id": "provider"}, ("state", "code", "error", "error_description")),
    "virtualmeeting:auth_callback_legacy": (
        {"provider_id": "provider"},
        ("state", "code", "error", "error_description"),
    ),
    "virtualmeeting:connection_status": ({"provider_id": "provider"}, ()),
    "virtualmeeting:disconnect": ({"provider_id": "provider"}, ("next",)),
    "virtualmeeting_zoom:webhook": ({}, ()),
    "login": ({}, ("next",)),
    "logout": ({}, ("next",)),
}

# Reads that write on purpose: opening the notifications marks them read; Connect stores the
# flow's single-use state; the callback uses it up (and may save the connection).
WRITES_ON_READ = {
    "seminars:notifications",
    "seminars:notification_open",
    "virtualmeeting:connect",
    "virtualmeeting:auth_callback",
    "virtualmeeting:auth_callback_legacy",
}
# Whatever a refused login attempt writes is django-axes' count of failures.
FAILURE_RECORDS = ("axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog")
METHODS = ["GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]
query_value = st.one_of(hostile_int_text, hostile_text, st.sampled_from(["1", "2", "last", "0", "-1"]))


def path_argument(scene, kind: str) -> st.SearchStrategy:
    if kind == "provider":
        return st.sampled_from(PROVIDER_IDS)
    if kind == "email_type":  # a slug in the address: the registry's keys, and names it does not have
        return st.sampled_from([*sorted(EMAIL_TYPES), "nope", "BOOKED", "booked-", "_", "0"])
    if kind == "feed_token":  # a slug in the address: no feed row in the scene, any guess is refused
        return st.from_regex(r"[-a-zA-Z0-9_]{1,80}", fullmatch=True)
    return st.one_of(st.sampled_from(scene.ids[kind]), st.sampled_from(scene.ids[kind]), hostile_pk())


@fuzzes(*ROUTES)
@pytest.mark.parametrize("route", sorted(ROUTES))
@fuzz_settings(6)
@given(data=st.data())
def test_any_route_any_viewer(scene, route, data):
    arguments, query_fields = ROUTES[route]
    kwargs = {name: data.draw(path_argument(scene, kind), label=name) for name, kind in arguments.items()}
    who = data.draw(st.sampled_from(sorted(scene.users())), label="viewer")
    method = data.draw(st.sampled_from(METHODS), label="method")
    fields = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from(query_fields), hostile_text) if query_fields else hostile_text,
            query_value,
            max_size=3,
        ),
        label="fields",
    )
    url = reverse(route, kwargs=kwargs)
    with rolled_back():
        client = client_for(scene.users()[who])
        check(
            lambda: send(client, method, url, fields),
            # A page that writes on purpose answers any method alike: only a 4xx is a refusal there.
            refused=(lambda r: r.status_code >= 400) if route in WRITES_ON_READ else is_refusal,
            may_write=lambda response: method == "POST" or route in WRITES_ON_READ,
            exclude=FAILURE_RECORDS if route == "login" else (),
            untouchable=scene.other_course_rows() if who not in ("admin", "trainer") else (),
        )
