"""Untrusted JSON: too deep a document is malformed input (ValueError), not a crash."""

import pytest

from app.core import json_input


def test_plain_json_parses_as_json_loads_does():
    assert json_input.loads(b'{"a": [1, "two", null]}') == {"a": [1, "two", None]}


@pytest.mark.parametrize("text", ["[" * 2000, '{"a": ' * 2000, b"[" * 100_000])
def test_a_document_nested_too_deeply_raises_value_error(text):
    with pytest.raises(ValueError, match="nested too deeply"):
        json_input.loads(text)


@pytest.mark.parametrize("text", ["{oops", b"\xff\xfe\xfa", ""])
def test_other_malformed_input_still_raises_value_error(text):
    with pytest.raises(ValueError):
        json_input.loads(text)
