"""The control-character rule: which characters are refused, and how the offender is named."""

from __future__ import annotations

import pytest

from app.core.control_characters import first_unclean, is_clean, is_clean_header, shown


@pytest.mark.parametrize("text", ["\u0000", "a\u0001", "\u001b[31m", "\u007f", "\u0085",
                                  "\u009f", "\ud800", "x\udfff"])
def test_refused(text):
    assert not is_clean(text)


@pytest.mark.parametrize("text", ["", "plain", "tab\there", "two\nlines\r\n", "caf\u00e9",
                                  "\u00a0no-break", "\u2028", "\U0001f600", "\ufffd"])
def test_allowed(text):
    assert is_clean(text)


def test_headers_allow_latin1_decoded_utf8_but_no_c0_controls_or_line_breaks():
    assert is_clean_header("Navigateur \u2026".encode().decode("latin-1"))
    assert is_clean_header("a\tb")
    assert not is_clean_header("a\u0000b")
    assert not is_clean_header("a\nb")
    assert not is_clean_header("a\u007f")


def test_the_offender_is_named_by_its_path_and_keys_are_shown_escaped():
    body = {"name": "ok", "items": [1, "fine", {"deep": "bad\u0000"}]}
    assert first_unclean(body) == ("items", "2", "deep")
    assert first_unclean({"value": {"k\u0000": 1}}) == ("value", "k\\u0000")
    assert first_unclean("\u0000") == ()
    assert first_unclean({"a": ["x", 1, None, True, 2.5]}) is None
    assert shown("a\u0000b\u009b") == "a\\u0000b\\u009b"


def test_a_very_deeply_nested_value_is_walked_without_recursion():
    value: list = []
    inner = value
    for _ in range(20_000):
        inner.append([])
        inner = inner[0]
    inner.append("\u0000")
    assert len(first_unclean(value)) == 20_001
