"""Attendees added, removed and moved by staff: hostile lists, ids, outcomes, reasons and targets."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check, client_for, fuzz_settings, fuzzes, post_form, rolled_back, send
from tests.fuzz.strategies import hostile_bool_text, hostile_pk, hostile_text, mutated

STAFF = ["trainer", "editor", "admin"]


def identifier(scene):
    names = [scene.learner.username, scene.waitlisted.username, scene.outsider.username, scene.trainer.email]
    return st.one_of(st.sampled_from(names), hostile_text)


@fuzzes("seminars:attendees_preview")
@fuzz_settings(25)
@given(data=st.data())
def test_attendees_preview(scene, data):
    lines = data.draw(st.lists(identifier(scene), max_size=6))
    separator = data.draw(st.sampled_from(["\n", "\r\n", ",", ";", "\t"]))
    baseline = {"text": separator.join(lines), "enrol": "on", "over_capacity": ""}
    fields = {"text": hostile_text, "enrol": hostile_bool_text, "over_capacity": hostile_bool_text}
    form = data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))
    who = data.draw(st.sampled_from(STAFF))
    url = reverse("seminars:attendees_preview", args=[data.draw(st.sampled_from(scene.ids["event"]))])
    with rolled_back():
        client = client_for(scene.users()[who])
        if data.draw(st.booleans(), label="upload"):
            # A CSV file of any bytes, sent as a browser sends a file (multipart).
            raw = data.draw(
                st.one_of(
                    st.binary(max_size=300),
                    st.lists(identifier(scene), max_size=6)
                    .map(lambda rows: "\ufeff" + "\r\n".join(rows))
                    .map(lambda text: text.encode("utf-8", "surrogatepass")),
                ),
                label="file",
            )
            form = {"file": SimpleUploadedFile("list.csv", raw, "text/csv"), "enrol": "on"}

        def request():
            if "file" in form:
                return client.post(url, form)
            return send(client, "POST", url, form)

        # A preview never writes, whatever it says.
        check(request, may_write=lambda response: False)


@fuzzes("seminars:attendees_add")
@fuzz_settings(25)
@given(data=st.data())
def test_attendees_add(scene, data):
    people = [scene.learner.pk, scene.waitlisted.pk, scene.outsider.pk, scene.trainer.pk]
    value = st.one_of(
        st.tuples(st.sampled_from(people), st.sampled_from(["", ":book", ":waitlist", ":already", ":"])).map(
            lambda pair: f"{pair[0]}{pair[1]}"
        ),
        hostile_pk().map(str),
        hostile_text,
    )
    form = {
        "add": data.draw(st.lists(value, max_size=4)),
        "enrol": data.draw(hostile_bool_text),
        "over_capacity": data.draw(hostile_bool_text),
    }
    who = data.draw(st.sampled_from(STAFF))
    url = reverse("seminars:attendees_add", args=[data.draw(st.sampled_from(scene.ids["event"]))])
    post_form(scene.users()[who], url, form, untouchable=scene.other_course_rows() if who != "admin" else ())


@fuzzes("seminars:attendee_remove", "seminars:attendee_move")
@fuzz_settings(25)
@given(data=st.data())
def test_attendee_remove_and_move(scene, data):
    route = data.draw(st.sampled_from(["seminars:attendee_remove", "seminars:attendee_move"]))
    baseline = {"reason": "Changed shifts", "to_event": str(scene.started_event.pk)}
    fields = {
        "reason": hostile_text,
        "to_event": st.one_of(st.sampled_from(scene.ids["event"]).map(str), hostile_pk().map(str), hostile_text),
    }
    form = data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))
    booking = data.draw(st.sampled_from(scene.ids["booking"]))
    who = data.draw(st.sampled_from(STAFF))
    untouchable = scene.other_course_rows() if who != "admin" else ()
    post_form(scene.users()[who], reverse(route, args=[booking]), form, untouchable=untouchable)


def test_the_preview_baseline_shows_the_list(scene):
    url = reverse("seminars:attendees_preview", args=[scene.event.pk])
    response = send(client_for(scene.trainer), "POST", url, {"text": f"{scene.learner.username}\nnobody"})
    assert response.status_code == 200
    assert "No user with this username or email." in response.content.decode()


@fuzzes("seminars:event_attendees")
@fuzz_settings(15)
@given(data=st.data())
def test_event_attendees_search(scene, data):
    query = data.draw(st.one_of(hostile_text, st.sampled_from(["lena", "@", "%", "_", " "])))
    url = reverse("seminars:event_attendees", args=[data.draw(st.sampled_from(scene.ids["event"]))])
    with rolled_back():
        client = client_for(scene.users()[data.draw(st.sampled_from(STAFF))])
        check(lambda: send(client, "GET", url, {"q": query}), may_write=lambda response: False)
