"""Performance monitors over the DRM perfmon ioctls (no root needed, unlike /dev/mem).

`dev.perfmon(["cycle-count", "QPU-total-idle-clk-cycles"])` creates one; attach it to a
dispatch with `perfmon=`; `pm.values()` reads the 64-bit totals as a dict. Totals accumulate
over every job the perfmon was attached to (the kernel has no reset).
"""

from __future__ import annotations

import ctypes
import difflib
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Self

from . import uapi
from .counters import Counter
from .errors import InvalidArgument

if TYPE_CHECKING:
    from .device import Device


def resolve_counters(names: Iterable[str | int], table: Sequence[Counter]) -> tuple[Counter, ...]:
    """Look counters up by kernel name (case-insensitive) or index; InvalidArgument if unknown."""
    by_name = {c.name.lower(): c for c in table}
    chosen = []
    for item in names:
        if isinstance(item, int) and not isinstance(item, bool):
            if not 0 <= item < len(table):
                raise InvalidArgument(f"counter index {item} out of range 0..{len(table) - 1}", value=item)
            chosen.append(table[item])
            continue
        if not isinstance(item, str):
            raise InvalidArgument(f"counter must be a name or an index, got {item!r}", value=item)
        counter = by_name.get(item.lower())
        if counter is None:
            close = difflib.get_close_matches(item.lower(), by_name, n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(by_name[c].name for c in close)}?" if close else ""
            raise InvalidArgument(f"unknown performance counter {item!r}{hint}", value=item)
        chosen.append(counter)
    if not 1 <= len(chosen) <= uapi.DRM_V3D_MAX_PERF_COUNTERS:
        raise InvalidArgument(
            f"a perfmon holds 1..{uapi.DRM_V3D_MAX_PERF_COUNTERS} counters, got {len(chosen)}",
            value=len(chosen),
        )
    return tuple(chosen)


def _destroy(backend, perfmon_id: int) -> None:
    if not backend.closed:
        try:
            backend.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_DESTROY, uapi.drm_v3d_perfmon_destroy(id=perfmon_id))
        except OSError:
            pass


class Perfmon:
    """A set of up to 32 hardware performance counters, attached to jobs with `perfmon=`.

    Create one with `Device.perfmon(names)`. On the emulator the counters come from the cycle
    model and are modelled, not measured.
    """

    def __init__(self, device: Device, names: Iterable[str | int]) -> None:
        """Create the perfmon in the kernel (use `Device.perfmon`).

        Args:
            device: The device whose jobs it counts.
            names: Counter names (such as `"cycle-count"`) or indices.

        Raises:
            InvalidArgument: An unknown counter, or more counters than the GPU counts at once.
        """
        self.device = device
        self.counters = resolve_counters(names, device.counter_table())
        create = uapi.drm_v3d_perfmon_create(ncounters=len(self.counters))
        for slot, counter in enumerate(self.counters):
            create.counters[slot] = counter.index
        device.ioctl(
            uapi.DRM_IOCTL_V3D_PERFMON_CREATE, create, value=[c.name for c in self.counters],
            what="creating a perfmon (needs Linux 5.15+)",
        )
        self.id: int = create.id
        self._finalizer = weakref.finalize(self, _destroy, device.backend, self.id)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive or self.device.closed

    def values(self) -> dict[str, int]:
        """Read the counters: their totals over every job attached so far.

        Wait for the jobs first: reading does not wait for them.

        Returns:
            Counter name to value.
        """
        self._check_open()
        out = (ctypes.c_uint64 * len(self.counters))()
        arg = uapi.drm_v3d_perfmon_get_values(id=self.id, values_ptr=ctypes.addressof(out))
        self.device.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_GET_VALUES, arg, value=self.id)
        return {counter.name: int(value) for counter, value in zip(self.counters, out)}

    def close(self) -> None:
        """Destroy the perfmon in the kernel. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.closed:
            raise InvalidArgument(f"perfmon {self.id} is closed", value=self.id)

    def __repr__(self) -> str:
        return f"<Perfmon id={self.id} counters={[c.name for c in self.counters]}>"
