"""Lists: a deque, so pushes and pops at both ends are O(1).

Redis 7.0 reports every list as a quicklist (the listpack encoding for small lists came
in 7.2), so the encoding does not depend on size.
"""

from __future__ import annotations

from collections import deque

from respd.storage.db import register_type


class ListValue(deque):  # type: ignore[type-arg]
    """A list value: deque[bytes] with its own type, so TYPE and WRONGTYPE can tell."""

    __slots__ = ()


register_type(ListValue, b"list", lambda value: b"quicklist")
