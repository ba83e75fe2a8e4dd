"""Which characters text from outside may hold: no control characters.

The rule, applied once at the request edge to every string a client sends (query
parameters, form fields, URL path segments, HTTP Basic credentials and every string and
object key of a JSON body, nested ones included):

- refused: the C0 controls U+0000..U+001F except tab, line feed and carriage return, DEL
  (U+007F), the C1 controls U+0080..U+009F, and lone surrogates (U+D800..U+DFFF, which a
  JSON body can spell as an escape but no UTF-8 text can hold);
- allowed: everything else, tab, line feed and carriage return included, since free text
  (a bio, a pasted address) may legitimately hold them; fields that must be one line
  refuse them in their own validation;
- HTTP header values (the user agent and forwarded addresses are stored with sessions and
  audit events) follow the narrower `FORBIDDEN_IN_HEADERS` (see there).

NUL is the reason this exists: PostgreSQL refuses it in text and jsonb columns, so a NUL
that reached a query surfaced as a 500. No legitimate text holds these characters, and
refusing them everywhere at once means no field can forget to.
"""

from __future__ import annotations

import re
from typing import Any

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# HTTP header values reach Python as bytes decoded as Latin-1 (WSGI), so a code point in
# U+0080..U+009F there is one byte of UTF-8 text (a browser's user agent may hold some):
# only the C0 controls but tab, and DEL, are refused in headers. A header never holds a
# line break, so those are refused too.
FORBIDDEN_IN_HEADERS = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def is_clean(text: str) -> bool:
    """True when `text` holds none of the refused characters."""
    return FORBIDDEN.search(text) is None


def is_clean_header(value: str) -> bool:
    """True when an HTTP header value holds none of the characters refused there."""
    return FORBIDDEN_IN_HEADERS.search(value) is None


def shown(text: str) -> str:
    """`text` safe to put in an error message: each refused character as a \\uXXXX escape."""
    return FORBIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def first_unclean(value: Any) -> tuple[str, ...] | None:
    """The path (object keys and list indexes) of the first string in a parsed JSON value
    that holds a refused character, or None. A refused character in an object key names the
    key itself (escaped with `shown`).

    Walked with an explicit stack, not recursion: the parser accepts nesting deep enough
    that a recursive walk on top of a request's own frames could overflow."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not is_clean(item):
                return path
        elif isinstance(item, dict):
            for key in item:
                if not is_clean(key):
                    return (*path, shown(key))
            stack.extend((child, (*path, key)) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index)))
                         for index, child in reversed(list(enumerate(item))))
    return None
