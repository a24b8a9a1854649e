"""Email templates: hostile subjects, bodies, events, actions and switches, on the site's and a seminar's editor.

Whatever is posted: no server error; a refusal or a preview writes nothing; and a template that was
saved renders (every placeholder it uses is one its email has, the subject stays one line).
"""

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.email_messages import email_text
from seminars.email_types import EMAIL_TYPES, PLACEHOLDERS, template_errors
from seminars.models import EmailTemplate
from seminars.selectors.email_templates import TemplateText
from tests.fuzz.harness import changed_tables, check, client_for, fuzz_settings, fuzzes, rolled_back, send, snapshot
from tests.fuzz.strategies import hostile_bool_text, hostile_pk, hostile_text, mutated

KINDS = sorted(EMAIL_TYPES)
# Template text near the edge: braces, placeholder names known and not, attribute access, format specs.
PIECES = st.sampled_from(
    [*(f"{{{name}}}" for name in PLACEHOLDERS), "{", "}", "{{", "}}", "{event.title}", "{0}", "{x:>9}", "\n", "\r", " "]
)
template_text = st.one_of(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=12).map("".join), hostile_text)


def _editor_form(scene, data):
    baseline = {
        "subject": "Booked: {event_name}",
        "body": "Hello {recipient_name},\n\n{sessions}",
        "event": str(scene.event.pk),
        "action": "save",
    }
    fields = {
        "subject": template_text,
        "body": template_text,
        "event": st.one_of(st.sampled_from(scene.ids["event"]).map(str), hostile_pk().map(str), hostile_text),
        "action": st.one_of(st.sampled_from(["save", "preview", ""]), hostile_text),
    }
    return data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))


def _post_editor(client, url, form, seminar=None):
    """POST the editor; check no 500, a refusal or a preview writes nothing, and what was saved renders."""
    before = snapshot()
    response = send(client, "POST", url, form)
    assert response.status_code < 500, response.content[:500]
    changed = changed_tables(before, snapshot())
    if response.status_code != 302:
        assert not changed, f"{response.status_code} changed {changed}"
        return
    for row in EmailTemplate.objects.filter(seminar=seminar):
        assert template_errors(EMAIL_TYPES[row.email_type], subject=row.subject, body=row.body) == {}
        subject, _body = email_text(TemplateText(row.subject, row.body, ""), {n: "{x}\n" for n in PLACEHOLDERS})
        assert "\n" not in subject


@fuzzes("seminars:email_template_edit")
@fuzz_settings(40)
@given(data=st.data())
def test_the_site_editor(scene, data):
    key = data.draw(st.sampled_from(KINDS))
    who = data.draw(st.sampled_from(["admin", "admin", "admin", "editor", "learner"]))
    with rolled_back():
        _post_editor(
            client_for(scene.users()[who]),
            reverse("seminars:email_template_edit", args=[key]),
            _editor_form(scene, data),
        )


@fuzzes("seminars:seminar_email_edit")
@fuzz_settings(40)
@given(data=st.data())
def test_the_seminar_editor(scene, data):
    key = data.draw(st.sampled_from([k for k in KINDS if EMAIL_TYPES[k].per_seminar] + ["connection_revoked"]))
    seminar = data.draw(st.sampled_from(scene.ids["seminar"]))
    who = data.draw(st.sampled_from(["admin", "editor", "editor", "trainer", "learner"]))
    url = reverse("seminars:seminar_email_edit", args=[seminar, key])
    with rolled_back():
        _post_editor(client_for(scene.users()[who]), url, _editor_form(scene, data), seminar=seminar)
        if who == "editor" and seminar != scene.seminar.pk:
            assert not EmailTemplate.objects.filter(seminar_id=seminar).exists()


@fuzzes("seminars:email_template_reset", "seminars:seminar_email_reset", "seminars:seminar_email_switch")
@fuzz_settings(30)
@given(data=st.data())
def test_reset_and_switch(scene, data):
    key = data.draw(st.sampled_from(KINDS))
    seminar = data.draw(st.sampled_from(scene.ids["seminar"]))
    route = data.draw(st.sampled_from(["email_template_reset", "seminar_email_reset", "seminar_email_switch"]))
    args = [key] if route == "email_template_reset" else [seminar, key]
    form = data.draw(st.dictionaries(st.sampled_from(["on", "confirm"]) | hostile_text, hostile_bool_text, max_size=2))
    who = data.draw(st.sampled_from(sorted(scene.users())))
    with rolled_back():
        EmailTemplate.objects.create(email_type=key, seminar=None, subject="Site", body="Site")
        client = client_for(scene.users()[who])
        check(
            lambda: send(client, "POST", reverse(f"seminars:{route}", args=args), form),
            untouchable=scene.other_course_rows() if who != "admin" else (),
        )


@fuzzes("seminars:email_templates", "seminars:seminar_emails")
@fuzz_settings(10)
@given(data=st.data())
def test_the_lists_never_write(scene, data):
    seminar = data.draw(st.one_of(st.sampled_from(scene.ids["seminar"]), hostile_pk()))
    route = data.draw(st.sampled_from(["email_templates", "seminar_emails"]))
    url = reverse(f"seminars:{route}", args=[seminar] if route == "seminar_emails" else [])
    who = data.draw(st.sampled_from(sorted(scene.users())))
    with rolled_back():
        client = client_for(scene.users()[who])
        check(
            lambda: send(client, "GET", url, {data.draw(hostile_text): data.draw(hostile_text)}),
            may_write=lambda r: False,
        )
