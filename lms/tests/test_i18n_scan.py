"""The template scanner that the i18n tests use (lms/testing/i18n_scan.py) finds what it should, and only that."""

from lms.testing.i18n_scan import untranslated, untranslated_in_dirs


def test_text_between_tags_is_found_with_its_line():
    source = '{% load i18n %}<h1>{% translate "Title" %}</h1>\n<p>\n  Raw words</p>'

    assert untranslated(source) == [(3, "Raw words")]


def test_translated_commented_and_code_text_is_not_found():
    source = """{% load i18n %}{# a note #}
{% comment %}Some
words{% endcomment %}
<p>{% blocktranslate trimmed with name=user.name %}
  Hello {{ name }}
{% endblocktranslate %}</p>
<script src="x.js"></script><script>let words = "not text";</script>
<svg><title>drawing</title></svg>
<!-- an html comment -->
<p>{{ user.name }} · 12 — {% url 'a:b' %}</p>"""

    assert untranslated(source) == []


def test_each_branch_of_a_tag_is_its_own_finding_and_variables_show_as_an_ellipsis():
    source = "<p>{% if ok %}Connected{% else %}Not\nconnected{% endif %}</p>\n<p>Page {{ n }} of {{ m }}</p>"

    assert untranslated(source) == [(1, "Connected"), (1, "Not connected"), (3, "Page … of …")]


def test_read_attributes_and_literal_defaults_are_found():
    source = """<a title="Open" href="/x" class="btn">{% translate "Open" %}</a>
<input type="submit" value="Send"><input type="hidden" name="a" value="kept">
<span aria-label="{% translate 'Fine' %}">{{ note|default:"Nothing yet" }}{{ x|default:_("Fine") }}</span>"""

    assert untranslated(source) == [(1, "Open"), (2, "Send"), (3, "Nothing yet")]


def test_allowed_words_are_compared_without_surrounding_punctuation():
    source = "<title>{% block title %}{% endblock %} · LMS</title><p>LMS rocks</p>"

    assert untranslated(source, allow={"LMS"}) == [(1, "LMS rocks")]


def test_findings_in_dirs_name_the_file_and_line(tmp_path):
    (tmp_path / "app" / "emails").mkdir(parents=True)
    (tmp_path / "app" / "page.html").write_text("{% load i18n %}\n<p>Hello</p>")
    (tmp_path / "app" / "emails" / "mail.html").write_text("<p>Skipped</p>")

    found = untranslated_in_dirs([tmp_path / "app"], root=tmp_path, skip=["app/emails/"])

    assert found == ["app/page.html:2: Hello"]
