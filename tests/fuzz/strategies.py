"""Hostile values, field by field, and "mostly valid" form data with a few fields broken.

A form that stops at its first bad field hides the checks behind it: `mutated` starts
from data the endpoint accepts and breaks one to three fields, so every later check is
reached too; `hostile_form` sends nothing sensible at all.
"""

import json
from datetime import datetime

from hypothesis import strategies as st

from seminars.timezones import zone_names

HUGE_INTS = [2**63, 10**30, -1, 0, 2**31, 2**31 - 1, 2**32, 2**63 - 1, 2**64, -(2**31) - 1, -(2**63), -(10**30)]
CONTROL_CHARS = ["\x00", "\r", "\n", "\r\n", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]
INVISIBLE_CHARS = ["\ufeff", "\u200b", "\u202e", "\u0301", "\ufffd", "\U0001f600", "\U000e0001"]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
SPECIAL_TEXT = [
    "",
    " ",
    "   \t ",
    "0",
    "-0",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e309",
    "1e-400",
    "0x10",
    "1_000",
    "²",
    "٣",
    "１２",
    "1.5",
    "true",
    "null",
    "None",
    "[]",
    "{}",
    '{"mode": "site"}',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%s%s%(name)s{0}",
    "../../etc/passwd",
    "javascript:alert(1)",
    "http://",
]
# Long text, made when drawn (a failing example's report then shows the recipe, not 100 kB).
LONG_TEXT = st.sampled_from(
    [
        ("https://example.com/", "a", 990),
        ("", "x", 256),
        ("", "é", 1001),
        ("", "9", 5000),  # int() refuses more than 4300 digits
        ("", "A", 100_000),
    ]
).map(lambda recipe: recipe[0] + recipe[1] * recipe[2])
BOGUS_ZONES = [
    "localtime",
    "Factory",
    "posixrules",
    "posix/Europe/London",
    "right/UTC",
    "EST5EDT",
    "Etc/GMT+5",
    "GMT",
    "US/Eastern",
    "../etc/passwd",
    "../../../../etc/localtime",
    "/etc/localtime",
    "Europe/../Europe/London",
    "Europe/London\x00",
    "Europe/London\n",
    "europe/london",
    "Europe/",
    "Europe/Nowhere",
    "UTC+14",
    "+05:00",
    "Z",
    "",
]
BAD_LOCAL_TIMES = [
    "0001-01-01T00:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59",
    "0000-01-01T00:00",
    "1999-12-31T23:59",
    "2101-01-01T00:00",
    "2100-12-31T23:59",
    "2000-01-01T00:00",
    "2030-02-30T10:00",
    "2030-13-01T10:00",
    "2030-06-10T24:00",
    "2030-06-10T09:60",
    "2030-06-10",
    "09:00",
    "2030-06-10T09:00:00.5",
    "2030-06-10T09:00Z",
    "2030-06-10T09:00+14:00",
    "+2030-06-10T09:00",
    "２０３０-06-10T09:00",
    "2030-06-10 09:00",
    "2030-03-31T01:30",  # the spring-forward gap in Europe
    "2030-10-27T01:30",  # the autumn fold
    "10000-01-01T00:00",
]


def _with_char(chars: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda before, char, after: before + char + after,
        st.text(max_size=8),
        st.sampled_from(chars),
        st.text(max_size=8),
    )


hostile_text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    LONG_TEXT,
    st.text(max_size=40),
    _with_char(CONTROL_CHARS),
    _with_char(INVISIBLE_CHARS),
    _with_char(LONE_SURROGATES),
)

hostile_int_text = st.one_of(
    st.sampled_from(HUGE_INTS).map(str),
    st.sampled_from(HUGE_INTS).map(str),  # twice: past the column's range is where a missing bound shows
    st.integers().map(str),
    st.floats().map(repr),
    st.sampled_from(["1.0", "1e3", " 7 ", "+5", "--1", "0" * 50 + "1", "٣", "²", "", "NaN"]),
    hostile_text,
)

hostile_date_text = st.one_of(
    st.sampled_from(BAD_LOCAL_TIMES),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
        lambda moment: moment.isoformat()[:16]
    ),
    hostile_text,
)

valid_zone = st.sampled_from(zone_names())
hostile_zone = st.one_of(st.sampled_from(BOGUS_ZONES), valid_zone, hostile_text)

hostile_bool_text = st.sampled_from(["on", "off", "true", "false", "1", "0", "", "yes", "\x00", "on" * 1000])

# JSON of every type, including what JavaScript's JSON.parse would refuse (NaN, Infinity, 10**30).
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
json_value = st.recursive(
    json_scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Nested deeper than any parser's recursion limit (made when drawn, as LONG_TEXT).
DEEP_JSON = st.sampled_from(
    [("[", "", "]", 100_000), ('{"a":', "1", "}", 50_000), ("[", "", "", 100_000), ('"\\ud800"', "", "", 1)]
).map(lambda recipe: recipe[0] * recipe[3] + recipe[1] + recipe[2] * recipe[3])
hostile_json_text = st.one_of(
    json_value.map(json.dumps),
    DEEP_JSON,
    st.sampled_from(['{"mode": NaN}', "{'mode': 'site'}", '{"mode": "site", "id": 1e999}', "[1, 2", "\x00"]),
    hostile_text,
)


def hostile_pk() -> st.SearchStrategy[int]:
    """Ids the URL converter accepts ([0-9]+) that name no row, or none a 32/64-bit column holds."""
    return st.sampled_from([0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, 10**100])


@st.composite
def mutated(draw, baseline: dict, fields: dict | None = None, *, max_changes: int = 3) -> dict:
    """`baseline` (accepted as it is) with one to `max_changes` of the `fields` (all of baseline's
    when none are named) given a hostile value, repeated, or left out, and sometimes an unexpected
    field added."""
    fields = fields or {}
    data = dict(baseline)
    keys = sorted(fields or baseline)
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=min(max_changes, len(keys)), unique=True)):
        strategy = fields.get(key, hostile_text)
        action = draw(st.sampled_from(["value", "value", "value", "value", "drop", "repeat"]))
        if action == "drop":
            data.pop(key, None)
        elif action == "repeat":
            data[key] = draw(st.lists(strategy, min_size=2, max_size=3))
        else:
            data[key] = draw(strategy)
    if draw(st.integers(0, 9)) == 0:
        data[draw(hostile_text)] = draw(hostile_text)
    return data


def hostile_form(fields: dict) -> st.SearchStrategy[dict]:
    """Every field hostile (or missing)."""
    return st.fixed_dictionaries({}, optional={name: strategy for name, strategy in fields.items()})


def form_data(baseline: dict, fields: dict) -> st.SearchStrategy[dict]:
    """Mostly "valid with a few fields broken", some wholly hostile, and the valid data itself."""
    return st.one_of(
        mutated(baseline, fields),
        mutated(baseline, fields),
        mutated(baseline, fields),
        hostile_form(fields),
        st.just(dict(baseline)),
    )
