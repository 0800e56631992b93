"""Whole-row operations on 16 lanes (a register, a scratch row, a flag row) as single vector
operations: moves, and a TMU lookup's lane summary, word gather and word scatter; and
`scratch_row`, a scratch row as a 16-lane array for the ALUs' lane loops (ops.py).

The machine moves 16-lane rows of uint32 between its arrays at every instruction (operands into
scratch rows, results into registers). Written as lane loops, LLVM unrolls them into 16 scalar
loads and stores each, since it cannot prove that two rows of different arrays do not overlap;
these helpers load the whole source row first and then store it, one vector of 16 x 32 bits
each way (AVX-512: one instruction; narrower vector units: two or four). Measured
(benchmarks/emulator_shapes.py, CPU ns per thread-instruction, 2-core AMD EPYC VM): a dual
fadd/fmul 52 -> 32, a mov 36 -> 29, sgemm 1024 emulation 6.0 -> 4.8 s (with the constant
scratch rows of the integer ops, dispatch.py, and flags without per-lane branches).

Rows are 1-D uint32 arrays of at least 16 elements, contiguous (`regs[slot, row]`, `sc[k]`).

`active_lanes` does for a TMU lookup what a lane loop did in ~100 scalar instructions (per quad
ORs, per-lane selects, four reductions; LLVM did not vectorise it): one vector each, and the
reductions with LLVM's vector.reduce intrinsics. `gather_words` reads a lookup's words in one
masked gather, `scatter_words` writes one word per lane in one masked scatter. The commonest
lookup (all 16 lanes on 16 consecutive words, as sgemm's B rows) needs neither: `word_run`
recognises it in one vector compare, and `read_words`/`write_words` move its words in one plain
vector load or store.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ..jit import JIT_ENABLED

if JIT_ENABLED:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.core.imputils import impl_ret_borrowed
    from numba.extending import intrinsic
    from numba.np.arrayobj import populate_array

    _ROW = ir.VectorType(ir.IntType(32), 16)

    def _rows(*arrays) -> bool:
        """Whether every argument is a contiguous 1-D uint32 array (a row); other types get no
        signature, so numba reports the call as a typing error."""
        return all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.dtype == types.uint32 for a in arrays)

    def _row_pointer(context, builder, arytype, value):
        data = context.make_array(arytype)(context, builder, value).data
        return builder.bitcast(data, _ROW.as_pointer())

    @intrinsic
    def copy_row(typingctx, dst, src):
        """dst[:16] = src[:16]."""

        def codegen(context, builder, sig, args):
            row = builder.load(_row_pointer(context, builder, sig.args[1], args[1]), align=4)
            builder.store(row, _row_pointer(context, builder, sig.args[0], args[0]), align=4)
            return context.get_dummy_value()

        return (types.none(dst, src), codegen) if _rows(dst, src) else None

    @intrinsic
    def fill_row(typingctx, dst, value):
        """dst[:16] = value (a 32-bit value in an integer)."""

        def codegen(context, builder, sig, args):
            lane = builder.trunc(context.cast(builder, args[1], sig.args[1], types.int64), ir.IntType(32))
            row = builder.insert_element(ir.Constant(_ROW, ir.Undefined), lane, ir.Constant(ir.IntType(32), 0))
            row = builder.shuffle_vector(row, ir.Constant(_ROW, ir.Undefined), ir.Constant(_ROW, None))
            builder.store(row, _row_pointer(context, builder, sig.args[0], args[0]), align=4)
            return context.get_dummy_value()

        return (types.none(dst, value), codegen) if _rows(dst) and isinstance(value, types.Integer) else None

    @intrinsic
    def select_row(typingctx, dst, src, mask):
        """dst[i] = src[i] for the lanes i < 16 where mask[i] != 0."""

        def codegen(context, builder, sig, args):
            dptr = _row_pointer(context, builder, sig.args[0], args[0])
            new = builder.load(_row_pointer(context, builder, sig.args[1], args[1]), align=4)
            keep = builder.load(_row_pointer(context, builder, sig.args[2], args[2]), align=4)
            old = builder.load(dptr, align=4)
            take = builder.icmp_unsigned("!=", keep, ir.Constant(_ROW, None))
            builder.store(builder.select(take, new, old), dptr, align=4)
            return context.get_dummy_value()

        return (types.none(dst, src, mask), codegen) if _rows(dst, src, mask) else None

    @intrinsic
    def scratch_row(typingctx, rows, k):
        """Row `k` of the scratch rows `rows` (a contiguous 2-D uint32 array of 16-lane rows) as a
        1-D array of 16 lanes, at 16 * k words from the first: LLVM sees its length and its
        offset from `rows` without `rows`'s shape (which `sc[k, i]` needs), so two rows taken
        at constant k are two separate runs of words to it."""

        def codegen(context, builder, sig, args):
            src = context.make_array(sig.args[0])(context, builder, args[0])
            k = context.cast(builder, args[1], sig.args[1], types.int64)
            data = builder.gep(src.data, [builder.mul(k, ir.Constant(ir.IntType(64), 16))])
            row = context.make_array(sig.return_type)(context, builder)
            i64 = context.get_value_type(types.intp)
            populate_array(row, data=data, shape=[ir.Constant(i64, 16)], strides=[ir.Constant(i64, 4)],
                           itemsize=ir.Constant(i64, 4), meminfo=src.meminfo, parent=src.parent)
            return impl_ret_borrowed(context, builder, sig.return_type, row._getvalue())

        if (isinstance(rows, types.Array) and rows.ndim == 2 and rows.layout == "C" and rows.dtype == types.uint32
                and isinstance(k, types.Integer)):
            return types.Array(types.uint32, 1, "C")(rows, k), codegen
        return None

    @intrinsic
    def register_row(typingctx, regs, slot, row):
        """Register row `row` of thread `slot` (`regs`: a contiguous 3-D uint32 array of 16-lane
        rows per thread) as a 1-D array of 16 lanes (as `scratch_row`): the plain rows' ALUs
        read their operands in place."""

        def codegen(context, builder, sig, args):
            i64 = context.get_value_type(types.intp)
            regs_a = context.make_array(sig.args[0])(context, builder, args[0])
            slot_v, row_v = (context.cast(builder, args[j], sig.args[j], types.int64) for j in (1, 2))
            nrows = cgutils.unpack_tuple(builder, regs_a.shape, 3)[1]
            at = builder.mul(builder.add(builder.mul(slot_v, nrows), row_v), ir.Constant(i64, 16))
            view = context.make_array(sig.return_type)(context, builder)
            populate_array(view, data=builder.gep(regs_a.data, [at]), shape=[ir.Constant(i64, 16)],
                           strides=[ir.Constant(i64, 4)], itemsize=ir.Constant(i64, 4), meminfo=regs_a.meminfo,
                           parent=regs_a.parent)
            return impl_ret_borrowed(context, builder, sig.return_type, view._getvalue())

        if (isinstance(regs, types.Array) and regs.ndim == 3 and regs.layout == "C" and regs.dtype == types.uint32
                and all(isinstance(x, types.Integer) for x in (slot, row))):
            return types.Array(types.uint32, 1, "C")(regs, slot, row), codegen
        return None

    _QUAD_SWAPS = (
        [i ^ 1 for i in range(16)],  # each lane with its neighbour in the pair
        [i ^ 2 for i in range(16)],  # each pair with the other pair of its quad
    )

    def _reduce(builder, op, vector):
        fnty = ir.FunctionType(ir.IntType(32), [_ROW])
        fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.vector.reduce.{op}.v16i32")
        return builder.zext(builder.call(fn, [vector]), ir.IntType(64))

    @intrinsic
    def active_lanes(typingctx, act, mask, msf, addrs, per_pixel):
        """The lanes that take part in a TMU lookup into `act` (1 or 0): lanes whose `mask` is set
        and whose quad carries an invocation (a `msf` lane set), each lane's own `msf` too when
        `per_pixel` is set. Returns (active lanes, lowest, highest and OR of their `addrs`);
        with no active lane (0, 0xFFFFFFFF, 0, 0)."""

        def codegen(context, builder, sig, args):
            zero = ir.Constant(_ROW, None)
            mask_v, msf_v, addr_v = (builder.load(_row_pointer(context, builder, sig.args[k], args[k]), align=4)
                                     for k in (1, 2, 3))
            quad = msf_v
            for swap in _QUAD_SWAPS:
                order = ir.Constant(ir.VectorType(ir.IntType(32), 16), swap)
                quad = builder.or_(quad, builder.shuffle_vector(quad, ir.Constant(_ROW, ir.Undefined), order))
            own = builder.icmp_unsigned("!=", msf_v, zero)
            whole = builder.icmp_unsigned("==", args[4], ir.Constant(args[4].type, 0))
            lane_ok = builder.or_(own, builder.select(whole, ir.Constant(own.type, [1] * 16),
                                                      ir.Constant(own.type, [0] * 16)))
            on = builder.and_(builder.icmp_unsigned("!=", mask_v, zero), builder.icmp_unsigned("!=", quad, zero))
            on = builder.and_(on, lane_ok)
            ones = builder.zext(on, _ROW)
            builder.store(ones, _row_pointer(context, builder, sig.args[0], args[0]), align=4)
            all_ones = ir.Constant(_ROW, [0xFFFFFFFF] * 16)
            values = [
                _reduce(builder, "add", ones),
                _reduce(builder, "umin", builder.select(on, addr_v, all_ones)),
                _reduce(builder, "umax", builder.select(on, addr_v, zero)),
                _reduce(builder, "or", builder.select(on, addr_v, zero)),
            ]
            return context.make_tuple(builder, sig.return_type, values)

        if _rows(act, mask, msf, addrs) and isinstance(per_pixel, types.Integer):
            return types.UniTuple(types.int64, 4)(act, mask, msf, addrs, per_pixel), codegen
        return None

    _I64 = ir.IntType(64)
    _ADDRS = ir.VectorType(_I64, 16)

    def _splat(builder, value, vtype):
        one = builder.insert_element(ir.Constant(vtype, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(one, ir.Constant(vtype, ir.Undefined), ir.Constant(_ROW, None))

    @intrinsic
    def gather_words(typingctx, dst, host, addrs, act, k):
        """dst[i] = the 32-bit word at host address `host` + `tmu.word_address(addrs[i], k)` for
        the lanes whose `act` is set, 0 for the others (whose words are not read)."""

        def codegen(context, builder, sig, args):
            a = builder.zext(builder.load(_row_pointer(context, builder, sig.args[2], args[2]), align=4), _ADDRS)
            k4 = _splat(builder, builder.shl(context.cast(builder, args[4], sig.args[4], types.int64),
                                             ir.Constant(_I64, 2)), _ADDRS)
            block = builder.and_(a, ir.Constant(_ADDRS, [~15 & 0xFFFFFFFFFFFFFFFF] * 16))
            ea = builder.or_(block, builder.and_(builder.add(a, k4), ir.Constant(_ADDRS, [12] * 16)))
            base = _splat(builder, context.cast(builder, args[1], sig.args[1], types.int64), _ADDRS)
            ptrs = builder.inttoptr(builder.add(base, ea), ir.VectorType(ir.IntType(32).as_pointer(), 16))
            on = builder.icmp_unsigned("!=", builder.load(_row_pointer(context, builder, sig.args[3], args[3]),
                                                          align=4), ir.Constant(_ROW, None))
            fnty = ir.FunctionType(_ROW, [ptrs.type, ir.IntType(32), on.type, _ROW])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.masked.gather.v16i32.v16p0")
            words = builder.call(fn, [ptrs, ir.Constant(ir.IntType(32), 4), on, ir.Constant(_ROW, None)])
            builder.store(words, _row_pointer(context, builder, sig.args[0], args[0]), align=4)
            return context.get_dummy_value()

        if _rows(dst, addrs, act) and isinstance(host, types.Integer) and isinstance(k, types.Integer):
            return types.none(dst, host, addrs, act, k), codegen
        return None

    @intrinsic
    def scatter_words(typingctx, host, addrs, act, src):
        """The 32-bit word src[i] to host address `host` + `tmu.word_address(addrs[i], 0)` for the
        lanes whose `act` is set, in lane order: where two lanes write the same word, the higher
        lane's value stays (LLVM's masked.scatter orders its stores from the lowest element, as
        x86's scatter instructions do)."""

        def codegen(context, builder, sig, args):
            a = builder.zext(builder.load(_row_pointer(context, builder, sig.args[1], args[1]), align=4), _ADDRS)
            ea = builder.and_(a, ir.Constant(_ADDRS, [~3 & 0xFFFFFFFFFFFFFFFF] * 16))
            base = _splat(builder, context.cast(builder, args[0], sig.args[0], types.int64), _ADDRS)
            ptrs = builder.inttoptr(builder.add(base, ea), ir.VectorType(ir.IntType(32).as_pointer(), 16))
            on = builder.icmp_unsigned("!=", builder.load(_row_pointer(context, builder, sig.args[2], args[2]),
                                                          align=4), ir.Constant(_ROW, None))
            words = builder.load(_row_pointer(context, builder, sig.args[3], args[3]), align=4)
            fnty = ir.FunctionType(ir.VoidType(), [_ROW, ptrs.type, ir.IntType(32), on.type])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.masked.scatter.v16i32.v16p0")
            builder.call(fn, [words, ptrs, ir.Constant(ir.IntType(32), 4), on])
            return context.get_dummy_value()

        if _rows(addrs, act, src) and isinstance(host, types.Integer):
            return types.none(host, addrs, act, src), codegen
        return None

    @intrinsic
    def word_run(typingctx, mask, msf, addrs):
        """Whether all 16 lanes take part in a TMU lookup (every `mask` and `msf` lane set:
        `active_lanes` then counts 16, whatever the lookup's per-pixel bit) at consecutive
        words: addrs[i] == addrs[0] + 4 i, with no 32-bit wrap (addrs[0] + 60 < 2^32)."""

        def codegen(context, builder, sig, args):
            zero = ir.Constant(_ROW, None)
            mask_v, msf_v, addr_v = (builder.load(_row_pointer(context, builder, sig.args[k], args[k]), align=4)
                                     for k in range(3))
            a0 = builder.extract_element(addr_v, ir.Constant(ir.IntType(32), 0))
            steps = builder.add(_splat(builder, a0, _ROW), ir.Constant(_ROW, [4 * i for i in range(16)]))
            on = builder.and_(builder.icmp_unsigned("!=", mask_v, zero), builder.icmp_unsigned("!=", msf_v, zero))
            on = builder.and_(on, builder.icmp_unsigned("==", addr_v, steps))
            fnty = ir.FunctionType(ir.IntType(1), [on.type])
            every = builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.vector.reduce.and.v16i1"),
                                 [on])
            no_wrap = builder.icmp_unsigned("<=", a0, ir.Constant(ir.IntType(32), 0xFFFFFFFF - 60))
            return builder.and_(every, no_wrap)

        return (types.boolean(mask, msf, addrs), codegen) if _rows(mask, msf, addrs) else None

    @intrinsic
    def read_words(typingctx, dst, host):
        """dst[:16] = the 16 consecutive 32-bit words at host address `host` (one vector load)."""

        def codegen(context, builder, sig, args):
            src = builder.inttoptr(context.cast(builder, args[1], sig.args[1], types.int64), _ROW.as_pointer())
            builder.store(builder.load(src, align=4), _row_pointer(context, builder, sig.args[0], args[0]), align=4)
            return context.get_dummy_value()

        return (types.none(dst, host), codegen) if _rows(dst) and isinstance(host, types.Integer) else None

    @intrinsic
    def write_words(typingctx, host, src):
        """The 16 words src[:16] to the consecutive 32-bit words at host address `host` (one
        vector store)."""

        def codegen(context, builder, sig, args):
            dst = builder.inttoptr(context.cast(builder, args[0], sig.args[0], types.int64), _ROW.as_pointer())
            builder.store(builder.load(_row_pointer(context, builder, sig.args[1], args[1]), align=4), dst, align=4)
            return context.get_dummy_value()

        return (types.none(host, src), codegen) if _rows(src) and isinstance(host, types.Integer) else None

else:

    def word_run(mask: np.ndarray, msf: np.ndarray, addrs: np.ndarray) -> bool:
        """Whether all 16 lanes take part in a TMU lookup (every `mask` and `msf` lane set) at
        consecutive words: addrs[i] == addrs[0] + 4 i, with no 32-bit wrap."""
        a0 = int(addrs[0])
        steps = np.arange(a0, a0 + 64, 4)
        return bool((mask[:16] != 0).all() and (msf[:16] != 0).all() and a0 + 60 < (1 << 32)
                    and (addrs[:16].astype(np.int64) == steps).all())

    def read_words(dst: np.ndarray, host: int) -> None:
        """dst[:16] = the 16 consecutive 32-bit words at host address `host`."""
        dst[:16] = np.ctypeslib.as_array((ctypes.c_uint32 * 16).from_address(int(host)))

    def write_words(host: int, src: np.ndarray) -> None:
        """The 16 words src[:16] to the consecutive 32-bit words at host address `host`."""
        np.ctypeslib.as_array((ctypes.c_uint32 * 16).from_address(int(host)))[:] = src[:16]

    def scatter_words(host: int, addrs: np.ndarray, act: np.ndarray, src: np.ndarray) -> None:
        """The 32-bit word src[i] to host address `host` + `tmu.word_address(addrs[i], 0)` for the
        lanes whose `act` is set, in lane order: where two lanes write the same word, the higher
        lane's value stays."""
        from ..hostmem import poke32
        from .tmu import word_address  # (tmu imports this module)

        for i in range(16):
            if act[i]:
                poke32(host + word_address(int(addrs[i]), 0), int(src[i]))

    def gather_words(dst: np.ndarray, host: int, addrs: np.ndarray, act: np.ndarray, k: int) -> None:
        """dst[i] = the 32-bit word at host address `host` + `tmu.word_address(addrs[i], k)` for
        the lanes whose `act` is set, 0 for the others (whose words are not read)."""
        from ..hostmem import peek32
        from .tmu import word_address  # (tmu imports this module)

        for i in range(16):
            dst[i] = peek32(host + word_address(int(addrs[i]), k)) if act[i] else 0

    def active_lanes(act: np.ndarray, mask: np.ndarray, msf: np.ndarray, addrs: np.ndarray,
                     per_pixel: int) -> tuple[int, int, int, int]:
        """The lanes that take part in a TMU lookup into `act` (1 or 0): lanes whose `mask` is set
        and whose quad carries an invocation (a `msf` lane set), each lane's own `msf` too when
        `per_pixel` is set. Returns (active lanes, lowest, highest and OR of their `addrs`);
        with no active lane (0, 0xFFFFFFFF, 0, 0)."""
        own = msf[:16] != 0
        on = (mask[:16] != 0) & own.reshape(4, 4).any(axis=1).repeat(4) & (own | (per_pixel == 0))
        act[:16] = on
        a = addrs[:16][on].astype(np.int64)
        if a.size == 0:
            return 0, 0xFFFFFFFF, 0, 0
        return int(on.sum()), int(a.min()), int(a.max()), int(np.bitwise_or.reduce(a))

    def copy_row(dst: np.ndarray, src: np.ndarray) -> None:
        """dst[:16] = src[:16]."""
        dst[:16] = src[:16]

    def scratch_row(rows: np.ndarray, k: int) -> np.ndarray:
        """Row `k` of the scratch rows `rows` (a contiguous 2-D uint32 array of 16-lane rows) as a
        1-D array of 16 lanes."""
        return rows[k, :16]

    def register_row(regs: np.ndarray, slot: int, row: int) -> np.ndarray:
        """Register row `row` of thread `slot` as a 1-D array of 16 lanes."""
        return regs[slot, row, :16]

    def fill_row(dst: np.ndarray, value: int) -> None:
        """dst[:16] = value (a 32-bit value in an integer)."""
        dst[:16] = int(value) & 0xFFFFFFFF

    def select_row(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
        """dst[i] = src[i] for the lanes i < 16 where mask[i] != 0."""
        take = mask[:16] != 0
        dst[:16][take] = src[:16][take]
