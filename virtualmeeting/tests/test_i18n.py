"""Every word a person reads on the site's own and the meeting pages goes through the translation tags."""

from pathlib import Path

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.utils import translation

from lms.testing.i18n_scan import untranslated_in_dirs
from lms.testing.translations import use_catalog

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [
    BASE_DIR / "templates",
    BASE_DIR / "virtualmeeting/templates",
    BASE_DIR / "virtualmeeting_zoom/templates",
]
ALLOWED = {
    "LMS",  # the product's name, after each page title
    "S",  # the brand mark, a logo letter beside the translated "Seminars LMS"
}


def test_no_template_shows_untranslated_text():
    assert untranslated_in_dirs(TEMPLATE_DIRS, root=BASE_DIR, allow=ALLOWED) == []


def test_the_pages_line_is_translated_with_its_count(settings, tmp_path):
    text = "Page %(number)s of %(pages)s (%(total)s in all)"
    forms = ["Seite %(number)s von %(pages)s (ein Eintrag)", "Seite %(number)s von %(pages)s (%(total)s Einträge)"]
    use_catalog(settings, tmp_path, "de", {(text, text): forms})

    with translation.override("de"):
        page = render_to_string("includes/pagination.html", {"page_obj": Paginator(list(range(30)), 10).page(2)})

    assert "Seite 2 von 3 (30 Einträge)" in page
