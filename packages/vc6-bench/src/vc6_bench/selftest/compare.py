"""Bit-for-bit comparison of what two devices left in the same buffers.

Buffers are compared as 32-bit words (the QPU's word; bytes for anything smaller), so a float
`-0.0` against `+0.0` or two different NaNs count as differences, as they must.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Comparison", "Difference", "as_words", "differences"]


@dataclass(frozen=True)
class Difference:
    """One word that differs.

    Attributes:
        buffer: Name of the buffer (`"out"`, an input name, or a kernel's result).
        index: Index of the word in the buffer's word view (a row and a lane for `(rows, 16)`
            probe outputs, one number for a flat buffer).
        flat: Position of the word in the buffer, counting words from 0.
        hardware: The word the hardware (or the device under test) left.
        emulator: The word the emulator left.
        nbytes: Bytes per word (4, or 1 for byte buffers).
    """

    buffer: str
    index: tuple[int, ...]
    flat: int
    hardware: int
    emulator: int
    nbytes: int = 4

    @property
    def bits(self) -> int:
        """The bits that differ (hardware XOR emulator)."""
        return self.hardware ^ self.emulator


def as_words(array: np.ndarray) -> np.ndarray:
    """`array` as 32-bit words in its own shape (the last axis scaled), or bytes if it cannot be."""
    data = np.ascontiguousarray(np.asarray(array))
    if data.ndim == 0:
        data = data.reshape(1)
    if data.dtype.itemsize % 4 == 0 and data.nbytes % 4 == 0:
        return data.view(np.uint32)
    return data.view(np.uint8)


@dataclass(frozen=True)
class Comparison:
    """The outcome of `differences`.

    Attributes:
        compared: Words compared.
        differing: Words that differ (all of them, counted).
        listed: The first `limit` of them, in buffer order.
    """

    compared: int
    differing: int
    listed: list[Difference]


def differences(hardware: Mapping[str, np.ndarray], emulator: Mapping[str, np.ndarray], *,
                skip_rows: Mapping[str, Mapping[int, str]] | None = None, limit: int = 512) -> Comparison:
    """Compare every buffer the emulator side has with the same buffer of the hardware side.

    Args:
        hardware: Buffers after the run on the device under test.
        emulator: The same buffers after the run on the emulator.
        skip_rows: Rows (first index) of a buffer left out, by buffer name.
        limit: How many differing words to list (all are counted).

    Returns:
        The counts and the listed differences; a buffer whose shape differs counts every word as
        differing.
    """
    listed: list[Difference] = []
    compared = differing = 0
    for name in emulator:
        want = as_words(emulator[name])
        got = as_words(hardware[name]) if name in hardware else np.zeros(0, want.dtype)
        if got.shape != want.shape:
            got = np.resize(got, want.shape) if got.size else np.zeros(want.shape, want.dtype)
            mask = np.ones(want.shape, bool)
        else:
            mask = got != want
        skipped = (skip_rows or {}).get(name, {})
        for row in skipped:
            mask[row] = False
        compared += want.size - sum(want[row].size for row in skipped)
        count = int(np.count_nonzero(mask))
        differing += count
        for flat in np.flatnonzero(mask)[: max(limit - len(listed), 0)].tolist():
            where = tuple(int(i) for i in np.unravel_index(flat, want.shape))
            listed.append(Difference(name, where, int(flat), int(got[where]), int(want[where]), want.itemsize))
    return Comparison(compared, differing, listed)
