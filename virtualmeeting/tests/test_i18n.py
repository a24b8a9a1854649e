"""Every word a person reads on the site's own and the meeting pages goes through the translation tags."""

from pathlib import Path

from lms.testing.i18n_scan import untranslated_in_dirs

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
