"""Read the CSRF token a hosted page puts in its form, as a browser would submit it.

Standard library only, so bench/ can use it without loading the test suite.
"""

from __future__ import annotations

import re

# The hidden input, whatever order its attributes come in; then the value inside it.
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


def csrf_from(html: str) -> str:
    """The value of the page's first csrf_token input; LookupError when it has none."""
    match = CSRF_INPUT.search(html)
    value = VALUE.search(match.group(0)) if match else None
    if value is None:
        raise LookupError("the page has no csrf_token input")
    return value.group(1)
