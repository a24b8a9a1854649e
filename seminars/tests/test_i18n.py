"""Every string a person reads goes through Django's translation functions, so the product can be translated.

Two scans guard it: every template under seminars/templates (pages and emails) for visible text outside
{% translate %} / {% blocktranslate %} (lms.testing.i18n_scan), and the seminars Python modules for literal
messages, refusals, labels and help texts that no gettext call wraps. Each finding names file:line.
"""

import ast
import re
from pathlib import Path

import pytest

from lms.testing.i18n_scan import untranslated_in_dirs

SEMINARS = Path(__file__).resolve().parents[1]
BASE_DIR = SEMINARS.parent
LETTER = re.compile(r"[^\W\d_]")
ALLOWED = {
    "https",  # the custom link's placeholder "https://": the format to type, not a word
}


@pytest.mark.parametrize("pattern", ["*.html", "*.txt"])  # pages and HTML emails; plain-text emails
def test_no_template_shows_untranslated_text(pattern):
    assert untranslated_in_dirs([SEMINARS / "templates"], root=BASE_DIR, allow=ALLOWED, pattern=pattern) == []


# ---- Python ------------------------------------------------------------------------------------------

# Calls whose first argument (the message) a person reads.
MESSAGE_CALLS = {"ValidationError", "PermissionDenied", "BookingError"}
MESSAGE_METHODS = {"success", "error", "info", "warning", "debug"}  # django.contrib.messages: (request, message)
# Keyword arguments a person reads: form and model field labels, admin columns, notifications.
TEXT_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "description", "subject", "body"}
# Form Meta dicts of labels and messages.
TEXT_DICTS = {"labels", "help_texts", "error_messages"}
# Widget attributes a person reads (or hears, from a screen reader).
TEXT_ATTRIBUTES = {"aria-label", "title", "placeholder"}
# Not scanned: tests, migrations, and management commands (the demo data's names and texts, and the command
# line's output for whoever runs them).
NOT_SCANNED = {"tests", "migrations", "management"}


def _literal_text(node) -> bool:
    """A literal with words in it: "text", f"text {x}", "text %s" % x, or a list/tuple/dict of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(LETTER.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_literal_text(part) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal_text(node.left)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_literal_text(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        return any(_literal_text(value) for value in node.values)
    return False


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


class _MessageFinder(ast.NodeVisitor):
    def __init__(self):
        self.found: list[tuple[int, str]] = []

    def _report(self, node, what):
        self.found.append((node.lineno, what))

    def visit_Call(self, node):
        name = _call_name(node)
        if name in MESSAGE_CALLS and node.args and _literal_text(node.args[0]):
            self._report(node, f"{name}(...)")
        is_messages = isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "messages"
        if is_messages and name in MESSAGE_METHODS and len(node.args) > 1 and _literal_text(node.args[1]):
            self._report(node, f"messages.{name}(...)")
        for keyword in node.keywords:
            if keyword.arg in TEXT_KEYWORDS and _literal_text(keyword.value):
                self._report(keyword.value, f"{keyword.arg}=")
        self.generic_visit(node)

    def visit_Dict(self, node):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in TEXT_ATTRIBUTES and _literal_text(value):
                self._report(value, f'"{key.value}":')
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        is_choices = any(getattr(base, "attr", getattr(base, "id", "")).endswith("Choices") for base in node.bases)
        for statement in node.body:
            if not isinstance(statement, ast.Assign):
                continue
            names = {getattr(target, "id", "") for target in statement.targets}
            if names & TEXT_DICTS and _literal_text(statement.value):
                self._report(statement, f"Meta.{names.pop()}")
            # TextChoices members: VALUE = "value", "Label"
            value = statement.value
            if is_choices and isinstance(value, ast.Tuple) and len(value.elts) == 2 and _literal_text(value.elts[1]):
                self._report(statement, "choice label")
        self.generic_visit(node)


def untranslated_messages(source: str) -> list[tuple[int, str]]:
    finder = _MessageFinder()
    finder.visit(ast.parse(source))
    return finder.found


def seminar_modules():
    return sorted(path for path in SEMINARS.rglob("*.py") if not NOT_SCANNED & set(path.relative_to(SEMINARS).parts))


def test_the_python_scanner_finds_literal_messages_and_passes_translated_ones():
    source = """
messages.success(request, f"Saved {name}.")
messages.success(request, _("Saved %(name)s.") % {"name": name})
raise ValidationError("Enter the name.")
raise ValidationError({"name": ["Enter the name."]})
raise ValidationError(_("Enter the name."))
field = forms.CharField(label="Name", help_text=_("Optional."))
class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    TRAINER = "trainer", _("Trainer")
class Meta:
    labels = {"name": "Name"}
widget = forms.Select(attrs={"form": "f", "aria-label": f"Attendance of {name}"})
"""
    assert [line for line, _ in untranslated_messages(source)] == [2, 4, 5, 7, 9, 12, 13]


def test_python_messages_go_through_gettext():
    modules = seminar_modules()
    assert len(modules) > 20, "the seminars modules were not found: the scan would pass vacuously"
    problems = [
        f"{path.relative_to(BASE_DIR)}:{line}: {what}"
        for path in modules
        for line, what in untranslated_messages(path.read_text())
    ]
    assert problems == [], "Literal text a person reads, not wrapped in gettext"
