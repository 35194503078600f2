"""Hypothesis settings and strategies for bad input: any unicode, very long values, missing
and duplicated fields, wrong types, invalid UTF-8 and wrong content types.

Runs are bounded (FUZZ_EXAMPLES per test, 60 by default) and derandomized, so CI sees the
same examples every time; set FUZZ_EXAMPLES higher locally to search harder.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

# Text of every kind: any code point (surrogates cannot be sent, so none), controls,
# markup, SQL-ish and formula-ish strings, and values far longer than any field allows.
NASTY = st.sampled_from([
    "", " ", "\x00", "\r\n", "Bob\r\nBcc: x@evil.test", "<script>alert(1)</script>",
    "' OR 1=1 --", "=HYPERLINK(\"http://evil.test\")", "\u202e\u200b\ufeff", "💥" * 50,
    "null", "[]", "{}", "true", "-1", "1e309", "%00", "../../etc/passwd", "ﷺ" * 20,
])
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=300),
    NASTY,
    st.integers(min_value=1, max_value=20_000).map(lambda n: "a" * n),
)


@st.composite
def form_values(draw, field_names: list[str], valid: dict[str, str]) -> MultiDict:
    """A form body: a few fields broken (bad, missing or sent several times), the others
    valid where a valid value is known, plus a stray field or two."""
    broken = draw(st.sets(st.sampled_from(field_names), max_size=min(3, len(field_names))))
    body = MultiDict()
    for name in field_names:
        if name not in broken:
            if name in valid:
                body.add(name, valid[name])
            continue
        value = draw(st.one_of(st.none(), TEXT, st.lists(TEXT, min_size=2, max_size=3)))
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            body.add(name, item)
    for name, value in draw(st.dictionaries(TEXT.filter(bool), TEXT, max_size=2)).items():
        body.add(name, value)
    return body


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12,
)


@st.composite
def json_object_like(draw, valid: dict) -> dict:
    """An object close to a valid one: up to two keys dropped or given a value of any
    type, the rest kept, and maybe a stray key."""
    broken = draw(st.sets(st.sampled_from(list(valid)), max_size=2))
    body = draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=1))
    for key, value in valid.items():
        if key not in broken:
            body[key] = value
        elif draw(st.booleans()):
            body[key] = draw(JSON_VALUES)
    return body


RAW_BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"\xff\xfe\xfa", b'{"title": "\xff"}', b"\xc3\x28", b"\xed\xa0\x80",
                     b'{"a":' * 200, b"[" * 5000, b"1" * 400, b'"\\ud800"', b"NaN",
                     b'{"title": 1e999999}', b"\x00" * 50]),
)
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=latin-1", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x",
    "application/xml", "", "application/json; charset=utf-16", "*/*",
])
PATH_SEGMENTS = st.one_of(TEXT.filter(bool), st.text(min_size=1, max_size=3000)).map(
    lambda s: quote(s, safe=""))
