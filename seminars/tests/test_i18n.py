"""Every string a person reads goes through Django's translation functions, so the product can be translated.

Every template under seminars/templates (pages and emails) is scanned for visible text outside
{% translate %} / {% blocktranslate %} (lms.testing.i18n_scan); each finding names file:line.
"""

from pathlib import Path

import pytest

from lms.testing.i18n_scan import untranslated_in_dirs

SEMINARS = Path(__file__).resolve().parents[1]
BASE_DIR = SEMINARS.parent
ALLOWED = {
    "https",  # the custom link's placeholder "https://": the format to type, not a word
}


@pytest.mark.parametrize("pattern", ["*.html", "*.txt"])  # pages and HTML emails; plain-text emails
def test_no_template_shows_untranslated_text(pattern):
    assert untranslated_in_dirs([SEMINARS / "templates"], root=BASE_DIR, allow=ALLOWED, pattern=pattern) == []
