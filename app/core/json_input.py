"""Parsing JSON that arrives from outside (request bodies, token segments, parameters).

Python's json parser recurses once per nesting level, so an input nested about a thousand
levels deep (`[[[[...`, a few kilobytes) raises RecursionError, which is not a ValueError:
a caller that catches only ValueError, as it should for malformed JSON, would let it
through as a 500. `loads` turns it into the ValueError every other malformed input raises,
so callers keep their one `except ValueError` and their own error. Use it, never
`json.loads`, for any JSON a client, a browser or a token could have written.
"""

from __future__ import annotations

import json
from typing import Any


class TooDeeplyNested(ValueError):
    """JSON nested too deeply for the parser: malformed input like any other."""


def loads(data: str | bytes | bytearray) -> Any:
    """json.loads, except that a too deeply nested document raises ValueError (as does any
    other malformed input, including bytes that are not UTF-8/16/32)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise TooDeeplyNested("The JSON is nested too deeply.") from None
