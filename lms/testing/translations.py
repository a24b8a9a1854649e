"""A translation catalog made for one test, so a test can show that text really goes through gettext/ngettext.

    def test_it_is_translated(settings, tmp_path):
        days = ("%(n)d day", "%(n)d days")
        use_catalog(settings, tmp_path, "de", {"Log in": "Anmelden", days: ["%(n)d Tag", "%(n)d Tage"]})
        with translation.override("de"):
            ...

A key is a msgid, or a (singular, plural) pair whose value lists the plural forms. The catalog has German plural
rules (one form for 1, another for the rest). Written as a compiled .mo file directly: no gettext tools needed.
"""

import struct
from pathlib import Path

HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"


def use_catalog(settings, directory: Path, language: str, messages: dict) -> None:
    """Write the catalog under ``directory`` and put it first in LOCALE_PATHS (pytest-django's ``settings``)."""
    folder = Path(directory) / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "django.mo").write_bytes(compiled(messages))
    settings.LOCALE_PATHS = [str(directory), *settings.LOCALE_PATHS]  # the change clears Django's catalog cache


def compiled(messages: dict) -> bytes:
    """GNU .mo bytes of ``messages`` (see the module docstring for its shape)."""
    entries = {"": HEADER}
    for key, value in messages.items():
        if isinstance(key, tuple):
            entries["\0".join(key)] = "\0".join(value)
        else:
            entries[key] = value
    ids = sorted(entries)
    originals = [text.encode() for text in ids]
    translated = [entries[text].encode() for text in ids]
    start = 7 * 4 + 2 * 8 * len(ids)  # header, then both tables of (length, offset)
    tables, data = [], b""
    for strings in (originals, translated):
        table = []
        for text in strings:
            table.append((len(text), start + len(data)))
            data += text + b"\0"
        tables.append(table)
    header = struct.pack("<7I", 0x950412DE, 0, len(ids), 7 * 4, 7 * 4 + 8 * len(ids), 0, 0)
    body = b"".join(struct.pack("<2I", *entry) for table in tables for entry in table)
    return header + body + data
