"""Byte and word access to host memory by address, for the emulator's compiled machine.

The machine reaches the BOs of a job through their host addresses (`ndarray.ctypes.data`)
instead of a list of arrays: numba passes plain integers without reference counting, while
every array handed to a compiled function costs an atomic increment and decrement per call.
Callers bounds-check every address against the BO table first (machine.memory.find_region) and keep the
arrays alive while the machine runs. Words are little-endian, as on the host and the GPU.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .jit import JIT_ENABLED

if JIT_ENABLED:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic, register_jitable

    def _peek(bits: int):
        @intrinsic
        def peek(typingctx, addr):
            def codegen(context, builder, sig, args):
                ptr = builder.inttoptr(args[0], ir.IntType(bits).as_pointer())
                return builder.zext(builder.load(ptr), ir.IntType(64))

            return types.int64(types.int64), codegen

        return peek

    def _poke(bits: int):
        @intrinsic
        def poke(typingctx, addr, value):
            def codegen(context, builder, sig, args):
                ptr = builder.inttoptr(args[0], ir.IntType(bits).as_pointer())
                builder.store(builder.trunc(args[1], ir.IntType(bits)), ptr)
                return context.get_dummy_value()

            return types.none(types.int64, types.int64), codegen

        return poke

    _peek8, _peek32, _poke8, _poke32 = _peek(8), _peek(32), _poke(8), _poke(32)

    @intrinsic
    def _prefetch(typingctx, addr):
        def codegen(context, builder, sig, args):
            ptr = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
            # the intrinsic's name carries its pointer type: `p0` with opaque pointers
            name = "llvm.prefetch.p0" if str(ptr.type) == "ptr" else "llvm.prefetch.p0i8"
            fn = cgutils.get_or_insert_function(builder.module, fnty, name)
            # a read, kept in every cache level (locality 3), of data (cache type 1)
            builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return types.none(types.int64), codegen

    @register_jitable(inline="always")
    def peek8(addr):
        return _peek8(np.int64(addr))

    @register_jitable(inline="always")
    def peek32(addr):
        return _peek32(np.int64(addr))

    @register_jitable(inline="always")
    def prefetch(addr):
        _prefetch(np.int64(addr))

    @register_jitable(inline="always")
    def poke8(addr, value):
        _poke8(np.int64(addr), np.int64(value))

    @register_jitable(inline="always")
    def poke32(addr, value):
        _poke32(np.int64(addr), np.int64(value))

else:

    def peek8(addr: int) -> int:
        """The byte at host address `addr`."""
        return ctypes.c_uint8.from_address(int(addr)).value

    def peek32(addr: int) -> int:
        """The 32-bit word at host address `addr` (any alignment)."""
        return ctypes.c_uint32.from_address(int(addr)).value

    def prefetch(addr: int) -> None:
        """Ask the host CPU to bring the cache line of `addr` in: a hint with no effect on what
        anything reads (any address, mapped or not; nothing here without numba)."""

    def poke8(addr: int, value: int) -> None:
        ctypes.c_uint8.from_address(int(addr)).value = int(value) & 0xFF

    def poke32(addr: int, value: int) -> None:
        ctypes.c_uint32.from_address(int(addr)).value = int(value) & 0xFFFFFFFF
