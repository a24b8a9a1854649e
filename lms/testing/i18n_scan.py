"""Find text a person reads in a Django template that does not go through the translation tags.

    from lms.testing.i18n_scan import untranslated_in_dirs

    assert untranslated_in_dirs([BASE_DIR / "templates"], root=BASE_DIR, allow={"LMS"}) == []

Each finding is "path:line: text". What counts as read by a person:
- text between tags, outside {% translate %}, {% blocktranslate %}…{% endblocktranslate %}, {% comment %},
  {# #}, {{ }}, {% %} and <script>/<style>/<svg> content;
- the values of the attributes in READ_ATTRIBUTES (title, aria-label, placeholder, alt, data-confirm…);
- string literals given to the default, default_if_none and yesno filters in {{ }} (``_("…")`` is fine).
Text made only of punctuation, digits and spaces is ignored, and so is text equal to an entry of ``allow``
(compared with surrounding punctuation and spaces stripped, e.g. "LMS" allows "· LMS").
"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

READ_ATTRIBUTES = frozenset(
    {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription", "label", "data-confirm"}
)
# Tags whose content is not text on the page (script code, styles, drawing instructions).
NOT_TEXT_ELEMENTS = frozenset({"script", "style", "svg", "template"})
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})

# Stand for template code, never visible text of their own: a {% %} tag (or translated or commented-out text)
# ends a piece of text; a {{ }} variable stays inside it, reported as "…".
TAG = "\ue000"
VARIABLE = "\ue001"
LETTER = re.compile(r"[^\W\d_]")
EDGES = re.compile(r"^[\W_\d]+|[\W_\d]+$")
LITERAL_FILTER_ARGUMENT = re.compile(
    r"""\|\s*(?:default|default_if_none|yesno)\s*:\s*(?P<quote>["'])(?P<text>.*?)(?P=quote)"""
)

BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}


def untranslated(source: str, *, allow=frozenset()) -> list[tuple[int, str]]:
    """(line, text) of each piece of readable text in a template's source that is not translated."""
    findings = _literal_filter_arguments(source)
    parser = _TextParser()
    parser.feed(_without_template_code(source))
    parser.close()
    findings += parser.found
    readable = [(line, _normalised(text)) for line, text in findings if _readable(text, allow)]
    return sorted(readable, key=lambda finding: finding[0])


def untranslated_in_dirs(dirs, *, root: Path, allow=frozenset(), pattern: str = "*.html", skip=()) -> list[str]:
    """'path:line: text' for every finding in the templates under ``dirs`` (paths relative to ``root``).

    ``skip`` holds path fragments (relative to ``root``, e.g. "seminars/templates/seminars/email/") to leave out.
    """
    found = []
    for folder in dirs:
        for path in sorted(Path(folder).rglob(pattern)):
            name = path.relative_to(root).as_posix()
            if any(fragment in name for fragment in skip):
                continue
            for line, text in untranslated(path.read_text(), allow=allow):
                found.append(f"{name}:{line}: {text}")
    return found


def _without_template_code(source: str) -> str:
    """The source with template code and translated or commented-out text replaced by markers (same lines)."""
    parts = []
    closing = None  # the end tag of the {% blocktranslate %} or {% comment %} being skipped
    for token in Lexer(source).tokenize():
        if closing:
            parts.append("\n" * token.contents.count("\n"))
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
                parts.append(TAG)
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
            continue
        if token.token_type == TokenType.BLOCK:
            closing = BLOCKS.get(token.contents.split()[0])
        parts.append(VARIABLE if token.token_type == TokenType.VAR else TAG)
    return "".join(parts)


def _literal_filter_arguments(source: str) -> list[tuple[int, str]]:
    found = []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.VAR:
            continue
        for match in LITERAL_FILTER_ARGUMENT.finditer(token.contents):
            found.append((token.lineno, match["text"]))
    return found


def _normalised(text: str) -> str:
    return " ".join(text.replace(TAG, " ").replace(VARIABLE, "…").split())


def _readable(text: str, allow) -> bool:
    text = _normalised(text.replace(VARIABLE, " "))
    return bool(LETTER.search(text)) and EDGES.sub("", text) not in allow


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.hidden_depth = 0  # inside <script>, <svg>…

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        values = dict(attrs)
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES:
                self.found += [(line, piece) for piece in value.split(TAG)]
        if tag == "input" and values.get("type") in BUTTON_INPUT_TYPES and values.get("value"):
            self.found.append((line, values["value"]))
        if tag in NOT_TEXT_ELEMENTS:
            self.hidden_depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in NOT_TEXT_ELEMENTS:
            self.hidden_depth -= 1

    def handle_endtag(self, tag):
        if tag in NOT_TEXT_ELEMENTS and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if self.hidden_depth:
            return
        line = self.getpos()[0]
        for piece in data.split(TAG):
            leading = piece[: len(piece) - len(piece.lstrip())]
            self.found.append((line + leading.count("\n"), piece))
            line += piece.count("\n")
