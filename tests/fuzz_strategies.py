"""Hypothesis strategies for what a hostile or clumsy client posts: oversized strings, NUL,
invisible and direction-changing characters, escaped surrogates, combining marks, emoji, wrong
types, huge numbers, impossible dates, lists where one value is expected, missing fields.

A form is fuzzed from a valid baseline (what its page would post), with a few fields replaced,
made into lists or dropped, so that the generated requests reach past the first validation
error as often as they stop at it.
"""

from __future__ import annotations

from hypothesis import strategies as st

DROP = object()  # the field is left out of the request

# Characters that have broken portals before: NUL, zero-width and bidirectional controls, a
# byte-order mark, line and paragraph separators, combining marks, emoji with joiners and
# modifiers, and text that looks like markup, SQL, a formula or a path.
EDGE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u200b",
    "\u200b\u200c\u200d\u2060",
    "\u202eevil\u202c",
    "\u2066x\u2069",
    "\ufeff",
    "\u2028\u2029",
    "e" + "\u0301" * 50,
    "Z\u0351\u0352\u0353\u0354" * 10,
    "👩🏽‍🚀🏳️‍🌈",
    "\U0001f600" * 30,
    "\\ud800",  # a lone surrogate, escaped: a browser cannot send one raw
    "%00",
    "%ED%A0%80",
    "<script>alert(1)</script>",
    "'; DROP TABLE members_user; --",
    '=HYPERLINK("http://x")',
    "../../../../etc/passwd",
    "ǅungla Ǆ ß ẞ İ ı",
    "\r\n\r\nX-Injected: 1",
    "\t",
    "abc",
    "None",
    "[]",
]
NUMBERS = [
    "0",
    "-1",
    "1.5",
    "1e308",
    "NaN",
    "Infinity",
    "9" * 40,
    "-" + "9" * 40,
    "0x10",
    "١٢٣",  # Arabic-Indic digits
    "2147483648",
    "9223372036854775808",
]
DATES = [
    "2026-13-45",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-06-01T25:61",
    "31/12/2026",
    "1970-01-01 00:00:00+99:00",
    "2026-11",
]


def oversized() -> st.SearchStrategy[str]:
    """Longer than any field takes: a few KB up to just over 128 KB (csv's field limit)."""
    return st.sampled_from([300, 1_001, 10_000, 131_073]).map(lambda n: "x" * n)


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(EDGE_STRINGS),
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs"]),  # surrogates cannot be encoded
            max_size=40,
        ),
        oversized(),
        st.sampled_from(EDGE_STRINGS).flatmap(
            lambda edge: st.text(max_size=10).map(lambda tail: edge + tail)
        ),
    )


def nasty_scalar() -> st.SearchStrategy[str]:
    return st.one_of(
        nasty_text(),
        st.sampled_from(NUMBERS),
        st.sampled_from(DATES),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


def nasty_value() -> st.SearchStrategy:
    """A scalar, a list of them (several values for one name), or the field left out."""
    return st.one_of(
        nasty_scalar(),
        st.lists(nasty_scalar(), min_size=0, max_size=3),
        st.just(DROP),
    )


def mutated(
    baseline: dict, extra_keys: tuple[str, ...] = (), good: dict | None = None
) -> st.SearchStrategy[dict]:
    """The baseline with up to four fields replaced by nasty values (or by other valid values
    from `good`), sometimes with fields that are not on the form, sometimes empty."""
    keys = sorted({*baseline, *extra_keys}) or ["_"]
    replacement = nasty_value()
    if good:
        replacement = st.one_of(replacement, st.sampled_from(sorted(good.items())).map(lambda item: item))

    @st.composite
    def build(draw) -> dict:
        if draw(st.integers(0, 19)) == 0:
            return {}
        data = dict(baseline)
        for key, value in draw(
            st.lists(st.tuples(st.sampled_from(keys), replacement), min_size=1, max_size=4)
        ):
            if isinstance(value, tuple):  # a valid value of some field, from `good`
                key, value = value
            if value is DROP:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    return build()
