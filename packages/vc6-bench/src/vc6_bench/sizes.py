"""Parse problem sizes written the way people write them: `1024`, `32Mi`, `64MiB`, `1000x300x777`.

A count may carry a decimal suffix (`k` = 10**3, `M`, `G`) or a binary one (`Ki` = 2**10,
`Mi`, `Gi`). A trailing `B` makes it a byte count (`64MiB`, `4kB`, `512B`): routines
whose size is a number of float32 elements turn bytes into elements by dividing by 4, and refuse a
byte count that is not a whole number of elements. Every error is a `SizeError` whose message
says what was wrong and what is accepted, so the CLI can print it on one line and exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Count", "SizeError", "elements_from", "parse_count", "parse_shape"]

_MULTIPLIERS = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
}
_COUNT = re.compile(r"^\s*(?P<number>\d+)\s*(?P<suffix>Ki|Mi|Gi|k|K|M|G)?(?P<bytes>B)?\s*$")
_ACCEPTED = "a positive whole number with an optional suffix k, M, G, Ki, Mi, Gi and an optional B for bytes (e.g. 1024, 32Mi, 64MiB)"


class SizeError(ValueError):
    """A size or shape argument that does not parse or is not positive."""


@dataclass(frozen=True)
class Count:
    """A parsed size: `value` units, where the unit is bytes when `is_bytes` else elements."""

    value: int
    is_bytes: bool
    text: str


def parse_count(text: str) -> Count:
    """Parse a size with an optional binary suffix.

    Args:
        text: Such as `"1024"`, `"32Mi"` (elements) or `"64MiB"` (bytes).

    Returns:
        The count: `parse_count("32Mi")` is `Count(33554432, False, ...)`, `"64MiB"` gives
        `Count(67108864, True, ...)`.

    Raises:
        SizeError: The text does not parse or is not positive.
    """
    match = _COUNT.match(str(text))
    if match is None:
        raise SizeError(f"size {text!r} does not parse: give {_ACCEPTED}")
    value = int(match["number"]) * _MULTIPLIERS[match["suffix"] or ""]
    if value <= 0:
        raise SizeError(f"size {text!r} must be positive: give {_ACCEPTED}")
    return Count(value=value, is_bytes=match["bytes"] is not None, text=str(text).strip())


def elements_from(count: Count, itemsize: int) -> int:
    """Number of elements of `itemsize` bytes that `count` names (bytes are divided exactly)."""
    if not count.is_bytes:
        return count.value
    if count.value % itemsize:
        raise SizeError(
            f"size {count.text!r} is {count.value} bytes, not a whole number of {itemsize}-byte "
            f"elements: give a multiple of {itemsize} bytes, or an element count without the B"
        )
    return count.value // itemsize


def parse_shape(text: str, ndim: int, what: str) -> tuple[int, ...]:
    """Parse a shape such as `"1000x300x777"`.

    Each axis may use the count suffixes (`1Kix1Ki`) but not `B`: a shape counts elements.

    Args:
        text: The shape.
        ndim: How many axes it must have.
        what: The axes' names for messages, such as `"MxNxK"`.

    Returns:
        `ndim` positive ints.

    Raises:
        SizeError: The text does not parse, has the wrong number of axes, or an axis is not
            positive.
    """
    parts = re.split(r"[xX×]", str(text))
    problem = f"shape {text!r} does not parse: give {what} as {ndim} positive whole numbers joined by 'x'"
    if len(parts) != ndim:
        raise SizeError(problem)
    dims = []
    for part in parts:
        try:
            count = parse_count(part)
        except SizeError:
            raise SizeError(problem) from None
        if count.is_bytes:
            raise SizeError(problem)
        dims.append(count.value)
    return tuple(dims)
