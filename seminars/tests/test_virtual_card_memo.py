"""The virtual room card made once per process (seminar_rows.session_virtual) is the card the template makes."""

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from seminars.templatetags.seminar_rows import VIRTUAL_TEMPLATE, session_virtual
from seminars.virtual_room import Access, LinksNote

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
notes = st.lists(
    st.builds(LinksNote, kind=st.sampled_from(["ready", "off", "registering", "failed"]), text=text), max_size=3
)
accesses = st.builds(
    Access,
    role=st.sampled_from(["owner", "staff", "learner", "none"]),
    pending=st.booleans(),
    buttons=st.lists(st.tuples(text, st.sampled_from(["/sessions/1/virtual/join/", "https://zoom.us/s/1?a=b&c"]))),
    message=text,
    problem=text,
    links=notes,
)


@settings(max_examples=150, deadline=None)
@given(access=accesses, pk=st.integers(min_value=1, max_value=10**9), waiting=st.booleans())
def test_the_remembered_card_is_the_templates_card(access, pk, waiting):
    session = SimpleNamespace(pk=pk, virtual=access, virtual_waiting=waiting, virtual_can_retry=False)
    expected = render_to_string(VIRTUAL_TEMPLATE, {"session": session})

    assert session_virtual(session) == expected
    assert session_virtual(session) == expected  # again, from the memo


def test_a_card_with_retry_now_is_never_remembered():
    access = Access(role="staff", problem="Zoom refused", buttons=[])
    session = SimpleNamespace(pk=1, virtual=access, virtual_waiting=False, virtual_can_retry=True)
    with pytest.raises(ValueError):
        session_virtual(session)
