"""What a program's entry in the report says about its values: the counts, and every differing
word with its lane and the instructions behind it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .compare import Comparison, Difference
from .provenance import Origin, ProvenanceExecutor

__all__ = ["both_sides", "lane_entry", "origins_at", "values_entry"]

T = TypeVar("T")


def both_sides(on_gpu: Callable[[], T], on_emulator: Callable[[], T]) -> tuple[T | None, T | None, str | None]:
    """Run a program on the GPU, then on the emulator; an exception on either side is a finding.

    Returns:
        `(GPU result, emulator result, None)`, or None results and the error, naming the side.
    """
    try:
        gpu = on_gpu()
    except Exception as error:  # noqa: BLE001 - a program that fails on one side is reported, not raised
        return None, None, f"on the GPU: {type(error).__name__}: {error}"
    try:
        emulator = on_emulator()
    except Exception as error:  # noqa: BLE001 - idem
        return gpu, None, f"on the emulator: {type(error).__name__}: {error}"
    return gpu, emulator, None


def origins_at(listed: list[Difference], addresses: Mapping[str, int],
               tracer: ProvenanceExecutor) -> dict[tuple[str, int], Origin]:
    """The traced origin of each listed difference, by (buffer, flat index).

    Args:
        listed: The differing words.
        addresses: The GPU address of each buffer in the traced run.
        tracer: The executor that traced that run.

    Returns:
        The origins found (words no store wrote, or of buffers without an address, are absent).
    """
    found = {}
    for diff in listed:
        base = addresses.get(diff.buffer)
        origin = tracer.origins.get(base + diff.nbytes * diff.flat // 4 * 4) if base is not None else None
        if origin is not None:
            found[(diff.buffer, diff.flat)] = origin
    return found


def values_entry(comparison: Comparison, origins: Mapping[tuple[str, int], Origin], note: str | None,
                 skip: Mapping[str, Mapping[int, str]]) -> dict[str, Any]:
    """The `values` of a program's entry: counts, skipped rows, and one entry per listed word."""
    return {
        "compared_words": comparison.compared,
        "differing_words": comparison.differing,
        "listed": len(comparison.listed),
        "skipped": {f"{name}[{row}]": why for name, rows in skip.items() for row, why in rows.items()},
        "provenance": note or ("traced on the emulator" if comparison.listed else None),
        "differences": [lane_entry(diff, origins.get((diff.buffer, diff.flat))) for diff in comparison.listed],
    }


def lane_entry(diff: Difference, origin: Origin | None) -> dict[str, Any]:
    """One differing word: where, which lane, both values in hex, and the instructions behind it."""
    width = 2 * diff.nbytes
    lane = origin.lane if origin is not None and origin.lane is not None else None
    if lane is None and len(diff.index) == 2 and diff.buffer == "out":
        lane = diff.index[1]  # a probe row: the column is the lane
    return {
        "buffer": diff.buffer,
        "index": list(diff.index),
        "lane": lane,
        "hardware": f"{diff.hardware:#0{width + 2}x}",
        "emulator": f"{diff.emulator:#0{width + 2}x}",
        "bits": f"{diff.bits:#0{width + 2}x}",
        "instruction": origin.produced_by.as_dict() if origin is not None and origin.produced_by is not None else None,
        "stored_by": origin.stored_by.as_dict() if origin is not None else None,
    }
