"""The kernel's user-space ABI for V3D, as ctypes structures and ioctl request numbers.

Everything here mirrors Linux `include/uapi/drm/drm.h` and `include/uapi/drm/v3d_drm.h`
(the 6.12 headers): struct names, field names and macro names are the C ones, so code can be
read side by side with the kernel header. Request numbers are computed from direction, type,
number and `ctypes.sizeof` of the argument struct exactly like the C `_IOWR` family, never
typed in. `tests/test_abi.py` compiles the real header with gcc and compares every struct
size, field offset and request number with this module.
"""

from __future__ import annotations

import ctypes
from ctypes import c_int, c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import NamedTuple

# --- asm-generic/ioctl.h ------------------------------------------------------------------------

_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS, _IOC_DIRBITS = 8, 8, 14, 2
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
_IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
_IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS

_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _IOC(direction: int, type_: int, nr: int, size: int) -> int:
    if not 0 <= size < (1 << _IOC_SIZEBITS):
        raise ValueError(f"ioctl argument size {size} does not fit in {_IOC_SIZEBITS} bits")
    return (
        (direction << _IOC_DIRSHIFT)
        | (type_ << _IOC_TYPESHIFT)
        | (nr << _IOC_NRSHIFT)
        | (size << _IOC_SIZESHIFT)
    )


def _IOW(type_: int, nr: int, struct: type) -> int:
    return _IOC(_IOC_WRITE, type_, nr, ctypes.sizeof(struct))


def _IOWR(type_: int, nr: int, struct: type) -> int:
    return _IOC(_IOC_READ | _IOC_WRITE, type_, nr, ctypes.sizeof(struct))


class DecodedRequest(NamedTuple):
    """The four fields of an ioctl request number."""

    direction: int  # bit 0 = _IOC_WRITE (user -> kernel), bit 1 = _IOC_READ (kernel -> user)
    type: int
    nr: int
    size: int


def decode_request(request: int) -> DecodedRequest:
    """Split a request number into direction, type, nr and argument size."""
    return DecodedRequest(
        (request >> _IOC_DIRSHIFT) & ((1 << _IOC_DIRBITS) - 1),
        (request >> _IOC_TYPESHIFT) & ((1 << _IOC_TYPEBITS) - 1),
        (request >> _IOC_NRSHIFT) & ((1 << _IOC_NRBITS) - 1),
        (request >> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1),
    )


# --- drm.h ----------------------------------------------------------------------------------------

DRM_IOCTL_BASE = ord("d")
DRM_COMMAND_BASE = 0x40


def DRM_IOW(nr: int, struct: type) -> int:
    return _IOW(DRM_IOCTL_BASE, nr, struct)


def DRM_IOWR(nr: int, struct: type) -> int:
    return _IOWR(DRM_IOCTL_BASE, nr, struct)


class _Struct(ctypes.Structure):
    """Base for every uAPI struct: a readable repr for error messages and debugging."""

    def __repr__(self) -> str:
        parts = []
        for name, *_ in self._fields_:
            value = getattr(self, name)
            if isinstance(value, ctypes.Array):
                value = list(value)
            parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class drm_version(_Struct):
    _fields_ = [
        ("version_major", c_int),
        ("version_minor", c_int),
        ("version_patchlevel", c_int),
        ("name_len", c_size_t),
        ("name", c_void_p),  # char __user *
        ("date_len", c_size_t),
        ("date", c_void_p),
        ("desc_len", c_size_t),
        ("desc", c_void_p),
    ]


class drm_gem_close(_Struct):
    _fields_ = [("handle", c_uint32), ("pad", c_uint32)]


class drm_get_cap(_Struct):
    _fields_ = [("capability", c_uint64), ("value", c_uint64)]


DRM_CAP_PRIME = 0x5
DRM_CAP_SYNCOBJ = 0x13
DRM_CAP_SYNCOBJ_TIMELINE = 0x14


class drm_syncobj_create(_Struct):
    _fields_ = [("handle", c_uint32), ("flags", c_uint32)]


DRM_SYNCOBJ_CREATE_SIGNALED = 1 << 0


class drm_syncobj_destroy(_Struct):
    _fields_ = [("handle", c_uint32), ("pad", c_uint32)]


class drm_syncobj_wait(_Struct):
    _fields_ = [
        ("handles", c_uint64),  # user pointer to __u32[count_handles]
        ("timeout_nsec", c_int64),  # absolute CLOCK_MONOTONIC deadline
        ("count_handles", c_uint32),
        ("flags", c_uint32),
        ("first_signaled", c_uint32),
        ("pad", c_uint32),
        ("deadline_nsec", c_uint64),  # since 6.4; older kernels ignore the tail
    ]


DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL = 1 << 0
DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT = 1 << 1
DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE = 1 << 2
DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE = 1 << 3


class drm_syncobj_array(_Struct):
    _fields_ = [("handles", c_uint64), ("count_handles", c_uint32), ("pad", c_uint32)]


DRM_IOCTL_VERSION = DRM_IOWR(0x00, drm_version)
DRM_IOCTL_GEM_CLOSE = DRM_IOW(0x09, drm_gem_close)
DRM_IOCTL_GET_CAP = DRM_IOWR(0x0C, drm_get_cap)
DRM_IOCTL_SYNCOBJ_CREATE = DRM_IOWR(0xBF, drm_syncobj_create)
DRM_IOCTL_SYNCOBJ_DESTROY = DRM_IOWR(0xC0, drm_syncobj_destroy)
DRM_IOCTL_SYNCOBJ_WAIT = DRM_IOWR(0xC3, drm_syncobj_wait)
DRM_IOCTL_SYNCOBJ_RESET = DRM_IOWR(0xC4, drm_syncobj_array)
DRM_IOCTL_SYNCOBJ_SIGNAL = DRM_IOWR(0xC5, drm_syncobj_array)

# --- v3d_drm.h: ioctl numbers ----------------------------------------------------------------------

DRM_V3D_SUBMIT_CL = 0x00
DRM_V3D_WAIT_BO = 0x01
DRM_V3D_CREATE_BO = 0x02
DRM_V3D_MMAP_BO = 0x03
DRM_V3D_GET_PARAM = 0x04
DRM_V3D_GET_BO_OFFSET = 0x05
DRM_V3D_SUBMIT_TFU = 0x06
DRM_V3D_SUBMIT_CSD = 0x07
DRM_V3D_PERFMON_CREATE = 0x08
DRM_V3D_PERFMON_DESTROY = 0x09
DRM_V3D_PERFMON_GET_VALUES = 0x0A
DRM_V3D_SUBMIT_CPU = 0x0B
DRM_V3D_PERFMON_GET_COUNTER = 0x0C

DRM_V3D_SUBMIT_CL_FLUSH_CACHE = 0x01
DRM_V3D_SUBMIT_EXTENSION = 0x02

# --- v3d_drm.h: extensions -------------------------------------------------------------------------


class drm_v3d_extension(_Struct):
    _fields_ = [("next", c_uint64), ("id", c_uint32), ("flags", c_uint32)]


DRM_V3D_EXT_ID_MULTI_SYNC = 0x01
DRM_V3D_EXT_ID_CPU_INDIRECT_CSD = 0x02
DRM_V3D_EXT_ID_CPU_TIMESTAMP_QUERY = 0x03
DRM_V3D_EXT_ID_CPU_RESET_TIMESTAMP_QUERY = 0x04
DRM_V3D_EXT_ID_CPU_COPY_TIMESTAMP_QUERY = 0x05
DRM_V3D_EXT_ID_CPU_RESET_PERFORMANCE_QUERY = 0x06
DRM_V3D_EXT_ID_CPU_COPY_PERFORMANCE_QUERY = 0x07


class drm_v3d_sem(_Struct):
    _fields_ = [
        ("handle", c_uint32),
        ("flags", c_uint32),
        ("point", c_uint64),
        ("mbz", c_uint64 * 2),
    ]


# enum v3d_queue
V3D_BIN, V3D_RENDER, V3D_TFU, V3D_CSD, V3D_CACHE_CLEAN, V3D_CPU = range(6)


class drm_v3d_multi_sync(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("in_syncs", c_uint64),
        ("out_syncs", c_uint64),
        ("in_sync_count", c_uint32),
        ("out_sync_count", c_uint32),
        ("wait_stage", c_uint32),
        ("pad", c_uint32),
    ]


# --- v3d_drm.h: submits ----------------------------------------------------------------------------


class drm_v3d_submit_cl(_Struct):
    _fields_ = [
        ("bcl_start", c_uint32),
        ("bcl_end", c_uint32),
        ("rcl_start", c_uint32),
        ("rcl_end", c_uint32),
        ("in_sync_bcl", c_uint32),
        ("in_sync_rcl", c_uint32),
        ("out_sync", c_uint32),
        ("qma", c_uint32),
        ("qms", c_uint32),
        ("qts", c_uint32),
        ("bo_handles", c_uint64),
        ("bo_handle_count", c_uint32),
        ("flags", c_uint32),
        ("perfmon_id", c_uint32),
        ("pad", c_uint32),
        ("extensions", c_uint64),
    ]


class drm_v3d_wait_bo(_Struct):
    _fields_ = [("handle", c_uint32), ("pad", c_uint32), ("timeout_ns", c_uint64)]


class drm_v3d_create_bo(_Struct):
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("handle", c_uint32),  # out
        ("offset", c_uint32),  # out: GPU address of byte 0
    ]


class drm_v3d_mmap_bo(_Struct):
    _fields_ = [
        ("handle", c_uint32),
        ("flags", c_uint32),
        ("offset", c_uint64),  # out: fake offset for mmap() on the DRM fd
    ]


# enum drm_v3d_param
(
    DRM_V3D_PARAM_V3D_UIFCFG,
    DRM_V3D_PARAM_V3D_HUB_IDENT1,
    DRM_V3D_PARAM_V3D_HUB_IDENT2,
    DRM_V3D_PARAM_V3D_HUB_IDENT3,
    DRM_V3D_PARAM_V3D_CORE0_IDENT0,
    DRM_V3D_PARAM_V3D_CORE0_IDENT1,
    DRM_V3D_PARAM_V3D_CORE0_IDENT2,
    DRM_V3D_PARAM_SUPPORTS_TFU,
    DRM_V3D_PARAM_SUPPORTS_CSD,
    DRM_V3D_PARAM_SUPPORTS_CACHE_FLUSH,
    DRM_V3D_PARAM_SUPPORTS_PERFMON,
    DRM_V3D_PARAM_SUPPORTS_MULTISYNC_EXT,
    DRM_V3D_PARAM_SUPPORTS_CPU_QUEUE,
    DRM_V3D_PARAM_MAX_PERF_COUNTERS,
) = range(14)


class drm_v3d_get_param(_Struct):
    _fields_ = [("param", c_uint32), ("pad", c_uint32), ("value", c_uint64)]


class drm_v3d_get_bo_offset(_Struct):
    _fields_ = [("handle", c_uint32), ("offset", c_uint32)]


class _drm_v3d_submit_tfu_v71(_Struct):
    _fields_ = [("ioc", c_uint32), ("pad", c_uint32)]


class drm_v3d_submit_tfu(_Struct):
    _fields_ = [
        ("icfg", c_uint32),
        ("iia", c_uint32),
        ("iis", c_uint32),
        ("ica", c_uint32),
        ("iua", c_uint32),
        ("ioa", c_uint32),
        ("ios", c_uint32),
        ("coef", c_uint32 * 4),
        ("bo_handles", c_uint32 * 4),
        ("in_sync", c_uint32),
        ("out_sync", c_uint32),
        ("flags", c_uint32),
        ("extensions", c_uint64),
        ("v71", _drm_v3d_submit_tfu_v71),
    ]


class drm_v3d_submit_csd(_Struct):
    _fields_ = [
        ("cfg", c_uint32 * 7),
        ("coef", c_uint32 * 4),
        ("bo_handles", c_uint64),  # user pointer to __u32[bo_handle_count]
        ("bo_handle_count", c_uint32),
        ("in_sync", c_uint32),
        ("out_sync", c_uint32),
        ("perfmon_id", c_uint32),
        ("extensions", c_uint64),
        ("flags", c_uint32),
        ("pad", c_uint32),
    ]


class drm_v3d_indirect_csd(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("submit", drm_v3d_submit_csd),
        ("indirect", c_uint32),
        ("offset", c_uint32),
        ("wg_size", c_uint32),
        ("wg_uniform_offsets", c_uint32 * 3),
    ]


class drm_v3d_timestamp_query(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("offsets", c_uint64),
        ("syncs", c_uint64),
        ("count", c_uint32),
        ("pad", c_uint32),
    ]


class drm_v3d_reset_timestamp_query(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("syncs", c_uint64),
        ("offset", c_uint32),
        ("count", c_uint32),
    ]


class drm_v3d_copy_timestamp_query(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("do_64bit", c_uint8),
        ("do_partial", c_uint8),
        ("availability_bit", c_uint8),
        ("pad", c_uint8),
        ("offset", c_uint32),
        ("stride", c_uint32),
        ("count", c_uint32),
        ("offsets", c_uint64),
        ("syncs", c_uint64),
    ]


class drm_v3d_reset_performance_query(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("syncs", c_uint64),
        ("count", c_uint32),
        ("nperfmons", c_uint32),
        ("kperfmon_ids", c_uint64),
    ]


class drm_v3d_copy_performance_query(_Struct):
    _fields_ = [
        ("base", drm_v3d_extension),
        ("do_64bit", c_uint8),
        ("do_partial", c_uint8),
        ("availability_bit", c_uint8),
        ("pad", c_uint8),
        ("offset", c_uint32),
        ("stride", c_uint32),
        ("nperfmons", c_uint32),
        ("ncounters", c_uint32),
        ("count", c_uint32),
        ("syncs", c_uint64),
        ("kperfmon_ids", c_uint64),
    ]


class drm_v3d_submit_cpu(_Struct):
    _fields_ = [
        ("bo_handles", c_uint64),
        ("bo_handle_count", c_uint32),
        ("flags", c_uint32),
        ("extensions", c_uint64),
    ]


# --- v3d_drm.h: performance monitors ---------------------------------------------------------------

V3D_PERFCNT_NUM = 87  # number of V3D 4.2 counters (the deprecated V3D_PERFCNT_* enum)
DRM_V3D_MAX_PERF_COUNTERS = 32
DRM_V3D_PERFCNT_MAX_NAME = 64
DRM_V3D_PERFCNT_MAX_CATEGORY = 32
DRM_V3D_PERFCNT_MAX_DESCRIPTION = 256


class drm_v3d_perfmon_create(_Struct):
    _fields_ = [
        ("id", c_uint32),
        ("ncounters", c_uint32),
        ("counters", c_uint8 * DRM_V3D_MAX_PERF_COUNTERS),
    ]


class drm_v3d_perfmon_destroy(_Struct):
    _fields_ = [("id", c_uint32)]


class drm_v3d_perfmon_get_values(_Struct):
    _fields_ = [("id", c_uint32), ("pad", c_uint32), ("values_ptr", c_uint64)]


class drm_v3d_perfmon_get_counter(_Struct):
    _fields_ = [
        ("counter", c_uint8),
        ("name", c_uint8 * DRM_V3D_PERFCNT_MAX_NAME),
        ("category", c_uint8 * DRM_V3D_PERFCNT_MAX_CATEGORY),
        ("description", c_uint8 * DRM_V3D_PERFCNT_MAX_DESCRIPTION),
        ("reserved", c_uint8 * 7),
    ]


DRM_IOCTL_V3D_SUBMIT_CL = DRM_IOWR(DRM_COMMAND_BASE + DRM_V3D_SUBMIT_CL, drm_v3d_submit_cl)
DRM_IOCTL_V3D_WAIT_BO = DRM_IOWR(DRM_COMMAND_BASE + DRM_V3D_WAIT_BO, drm_v3d_wait_bo)
DRM_IOCTL_V3D_CREATE_BO = DRM_IOWR(DRM_COMMAND_BASE + DRM_V3D_CREATE_BO, drm_v3d_create_bo)
DRM_IOCTL_V3D_MMAP_BO = DRM_IOWR(DRM_COMMAND_BASE + DRM_V3D_MMAP_BO, drm_v3d_mmap_bo)
DRM_IOCTL_V3D_GET_PARAM = DRM_IOWR(DRM_COMMAND_BASE + DRM_V3D_GET_PARAM, drm_v3d_get_param)
DRM_IOCTL_V3D_GET_BO_OFFSET = DRM_IOWR(
    DRM_COMMAND_BASE + DRM_V3D_GET_BO_OFFSET, drm_v3d_get_bo_offset
)
DRM_IOCTL_V3D_SUBMIT_TFU = DRM_IOW(DRM_COMMAND_BASE + DRM_V3D_SUBMIT_TFU, drm_v3d_submit_tfu)
DRM_IOCTL_V3D_SUBMIT_CSD = DRM_IOW(DRM_COMMAND_BASE + DRM_V3D_SUBMIT_CSD, drm_v3d_submit_csd)
DRM_IOCTL_V3D_PERFMON_CREATE = DRM_IOWR(
    DRM_COMMAND_BASE + DRM_V3D_PERFMON_CREATE, drm_v3d_perfmon_create
)
DRM_IOCTL_V3D_PERFMON_DESTROY = DRM_IOWR(
    DRM_COMMAND_BASE + DRM_V3D_PERFMON_DESTROY, drm_v3d_perfmon_destroy
)
DRM_IOCTL_V3D_PERFMON_GET_VALUES = DRM_IOWR(
    DRM_COMMAND_BASE + DRM_V3D_PERFMON_GET_VALUES, drm_v3d_perfmon_get_values
)
DRM_IOCTL_V3D_SUBMIT_CPU = DRM_IOW(DRM_COMMAND_BASE + DRM_V3D_SUBMIT_CPU, drm_v3d_submit_cpu)
DRM_IOCTL_V3D_PERFMON_GET_COUNTER = DRM_IOWR(
    DRM_COMMAND_BASE + DRM_V3D_PERFMON_GET_COUNTER, drm_v3d_perfmon_get_counter
)

# --- Tables for backends, messages and the ABI test ------------------------------------------------

#: Every ioctl this module defines: macro name -> (request number, argument struct).
IOCTLS: dict[str, tuple[int, type]] = {
    "DRM_IOCTL_VERSION": (DRM_IOCTL_VERSION, drm_version),
    "DRM_IOCTL_GEM_CLOSE": (DRM_IOCTL_GEM_CLOSE, drm_gem_close),
    "DRM_IOCTL_GET_CAP": (DRM_IOCTL_GET_CAP, drm_get_cap),
    "DRM_IOCTL_SYNCOBJ_CREATE": (DRM_IOCTL_SYNCOBJ_CREATE, drm_syncobj_create),
    "DRM_IOCTL_SYNCOBJ_DESTROY": (DRM_IOCTL_SYNCOBJ_DESTROY, drm_syncobj_destroy),
    "DRM_IOCTL_SYNCOBJ_WAIT": (DRM_IOCTL_SYNCOBJ_WAIT, drm_syncobj_wait),
    "DRM_IOCTL_SYNCOBJ_RESET": (DRM_IOCTL_SYNCOBJ_RESET, drm_syncobj_array),
    "DRM_IOCTL_SYNCOBJ_SIGNAL": (DRM_IOCTL_SYNCOBJ_SIGNAL, drm_syncobj_array),
    "DRM_IOCTL_V3D_SUBMIT_CL": (DRM_IOCTL_V3D_SUBMIT_CL, drm_v3d_submit_cl),
    "DRM_IOCTL_V3D_WAIT_BO": (DRM_IOCTL_V3D_WAIT_BO, drm_v3d_wait_bo),
    "DRM_IOCTL_V3D_CREATE_BO": (DRM_IOCTL_V3D_CREATE_BO, drm_v3d_create_bo),
    "DRM_IOCTL_V3D_MMAP_BO": (DRM_IOCTL_V3D_MMAP_BO, drm_v3d_mmap_bo),
    "DRM_IOCTL_V3D_GET_PARAM": (DRM_IOCTL_V3D_GET_PARAM, drm_v3d_get_param),
    "DRM_IOCTL_V3D_GET_BO_OFFSET": (DRM_IOCTL_V3D_GET_BO_OFFSET, drm_v3d_get_bo_offset),
    "DRM_IOCTL_V3D_SUBMIT_TFU": (DRM_IOCTL_V3D_SUBMIT_TFU, drm_v3d_submit_tfu),
    "DRM_IOCTL_V3D_SUBMIT_CSD": (DRM_IOCTL_V3D_SUBMIT_CSD, drm_v3d_submit_csd),
    "DRM_IOCTL_V3D_PERFMON_CREATE": (DRM_IOCTL_V3D_PERFMON_CREATE, drm_v3d_perfmon_create),
    "DRM_IOCTL_V3D_PERFMON_DESTROY": (DRM_IOCTL_V3D_PERFMON_DESTROY, drm_v3d_perfmon_destroy),
    "DRM_IOCTL_V3D_PERFMON_GET_VALUES": (
        DRM_IOCTL_V3D_PERFMON_GET_VALUES,
        drm_v3d_perfmon_get_values,
    ),
    "DRM_IOCTL_V3D_SUBMIT_CPU": (DRM_IOCTL_V3D_SUBMIT_CPU, drm_v3d_submit_cpu),
    "DRM_IOCTL_V3D_PERFMON_GET_COUNTER": (
        DRM_IOCTL_V3D_PERFMON_GET_COUNTER,
        drm_v3d_perfmon_get_counter,
    ),
}

#: Every struct this module defines (the ABI test checks each one's size and field offsets).
STRUCTS: tuple[type, ...] = tuple(
    obj
    for name, obj in list(globals().items())
    if isinstance(obj, type) and issubclass(obj, _Struct) and name[:1] != "_"
)

#: Integer constants the ABI test checks against the header's macros and enums.
CONSTANTS: dict[str, int] = {
    name: value
    for name, value in list(globals().items())
    if isinstance(value, int)
    and not isinstance(value, bool)
    and (name.startswith(("DRM_V3D_", "V3D_", "DRM_CAP_", "DRM_SYNCOBJ_")) or name == "DRM_COMMAND_BASE")
}

_NAMES_BY_REQUEST = {request: name for name, (request, _) in IOCTLS.items()}


def ioctl_name(request: int) -> str:
    """The C macro name of a request number, for messages (hex if unknown)."""
    return _NAMES_BY_REQUEST.get(request, f"ioctl {request:#010x}")


def field_paths(struct: type, prefix: str = "") -> list[tuple[str, int, int]]:
    """(C member designator, offset, size) of every field, descending into nested structs.

    The designator is what C's offsetof accepts, e.g. `v71.ioc` for the TFU's nested struct.
    """
    out = []
    for name, ctype, *_ in struct._fields_:
        desc = getattr(struct, name)
        out.append((prefix + name, desc.offset, desc.size))
        if isinstance(ctype, type) and issubclass(ctype, ctypes.Structure):
            for sub, offset, size in field_paths(ctype):
                out.append((prefix + name + "." + sub, desc.offset + offset, size))
    return out


def c_string(array: ctypes.Array) -> str:
    """Decode a NUL-terminated `__u8[N]` field."""
    raw = bytes(array)
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

