"""CSD cfg words: Mesa's formulas (reference 4.3) and the checks in front of them."""

import pytest
from v3d_drm import InvalidArgument, choose_wgs_per_sg, compute_cfg
from v3d_drm.csd import decode_cfg

CODE, UNIFORMS = 0x60000, 0x140000

# Reference 4.4 worked examples: 4 threads (threading), multi-segment, PNAN, V3D 4.2.
EXAMPLES = [
    # workgroups, local_size, wgs_per_sg, batches/sg, batches, cfg[3], cfg[4]
    ((32, 1, 1), (1, 1, 1), 16, 1, 2, 0x00000001, 0x00000001),
    ((1, 1, 1), (16, 1, 1), 1, 1, 1, 0x00000110, 0x00000000),
    ((100, 1, 1), (8, 1, 1), 2, 1, 50, 0x00000208, 0x00000031),
    ((1024, 1, 1), (64, 1, 1), 1, 4, 4096, 0x00003140, 0x00000FFF),
    ((10, 1, 1), (256, 1, 1), 1, 16, 160, 0x0000F100, 0x0000009F),
]


@pytest.mark.parametrize("groups, local, wgs, bpsg, batches, cfg3, cfg4", EXAMPLES)
def test_reference_examples(groups, local, wgs, bpsg, batches, cfg3, cfg4):
    c = compute_cfg(workgroups=groups, local_size=local, code_address=CODE, uniforms_address=UNIFORMS, threading=True)
    assert (c.wgs_per_sg, c.batches_per_sg, c.num_batches) == (wgs, bpsg, batches)
    assert c.cfg == (groups[0] << 16, 0x10000, 0x10000, cfg3, cfg4, 0x00060005, 0x00140000)


def test_captured_pi4_row_with_explicit_wgs_per_sg():
    # The real Pi 4 capture (older Mesa, no supergroup packing): wgs_per_sg forced to 1.
    c = compute_cfg(workgroups=32, local_size=1, code_address=CODE, uniforms_address=UNIFORMS, wgs_per_sg=1, threading=True)
    assert c.cfg[3:5] == (0x101, 0x1F)


def test_pi5_cfg4_is_the_count():
    c = compute_cfg(workgroups=1024, local_size=64, code_address=CODE, uniforms_address=UNIFORMS,
                    threading=True, propagate_nan=False, cfg4_is_count_minus_1=False)
    assert c.cfg[4:6] == (0x1000, 0x60001)


def test_flag_bits_of_cfg5():
    base = {"workgroups": 1, "local_size": 16, "code_address": CODE, "uniforms_address": UNIFORMS}
    assert compute_cfg(**base, propagate_nan=False).cfg[5] == CODE
    assert compute_cfg(**base, propagate_nan=False, single_seg=True).cfg[5] == CODE | 2
    assert compute_cfg(**base, propagate_nan=False, threading=True).cfg[5] == CODE | 1
    assert compute_cfg(**base).cfg[5] == CODE | 4


def test_choose_wgs_per_sg_never_exceeds_the_workgroup_count():
    # 1-invocation workgroups: 16 would fill a batch, but only 3 exist; 3 leaves the fewest idle lanes
    assert choose_wgs_per_sg(3, 1) == 3
    assert choose_wgs_per_sg(40, 1) == 16
    assert choose_wgs_per_sg(2, 8) == 2
    assert choose_wgs_per_sg(1, 8) == 1
    # 24-invocation workgroups: 2 fill 3 batches exactly
    assert choose_wgs_per_sg(100, 24) == 2


def test_wgs_per_sg_16_is_encoded_as_0():
    c = compute_cfg(workgroups=32, local_size=1, code_address=CODE, uniforms_address=UNIFORMS, wgs_per_sg=16)
    assert (c.cfg[3] >> 8) & 0xF == 0
    assert decode_cfg(c.cfg).wgs_per_sg == 16


def test_decode_round_trips():
    c = compute_cfg(workgroups=(7, 3, 2), local_size=(4, 2, 1), code_address=CODE, uniforms_address=UNIFORMS, single_seg=True)
    d = decode_cfg(c.cfg)
    assert (d.workgroups, d.wg_size, d.wgs_per_sg, d.batches_per_sg, d.num_batches) == (
        c.workgroups, c.wg_size, c.wgs_per_sg, c.batches_per_sg, c.num_batches)
    assert (d.code_address, d.uniforms_address, d.single_seg, d.threading, d.propagate_nan) == (CODE, UNIFORMS, True, False, True)


@pytest.mark.parametrize(
    "override, words",
    [
        ({"workgroups": (0, 1, 1)}, "workgroups[x]"),
        ({"workgroups": (1, 0, 1)}, "zero count"),
        ({"workgroups": (65536, 1, 1)}, "65535"),
        ({"workgroups": (1, 2, 3, 4)}, "three ints"),
        ({"local_size": (16, 16, 2)}, "at most 256"),
        ({"local_size": 0}, "local_size"),
        ({"wgs_per_sg": 0}, "wgs_per_sg"),
        ({"wgs_per_sg": 17}, "wgs_per_sg"),
        ({"batches": 0}, "batches"),
        ({"code_address": 0x60004}, "8-byte aligned"),
        ({"code_address": 0}, "code address"),
        ({"code_address": 1 << 32}, "code address"),
        ({"uniforms_address": 0x140002}, "4-byte aligned"),
        ({"threading": 1}, "threading"),
        ({"workgroups": 1.5}, "workgroups"),
    ],
)
def test_bad_fields_are_rejected_with_the_field_named(override, words):
    args = {"workgroups": 1, "local_size": 16, "code_address": CODE, "uniforms_address": UNIFORMS}
    args.update(override)
    with pytest.raises(InvalidArgument, match=words.replace("[", r"\[").replace("]", r"\]")):
        compute_cfg(**args)


@pytest.mark.parametrize(
    "cfg, words",
    [
        ((1 << 16,) * 3 + (0x110, 0, CODE, UNIFORMS, 0), "7 words"),
        ((0, 1 << 16, 1 << 16, 0x110, 0, CODE, UNIFORMS), "NUM_WGS_X"),
        ((1 << 16,) * 3 + (0x110, 0, CODE | 0, 0), "uniforms"),
        ((1 << 16,) * 3 + (0x110, 0, 0x5, UNIFORMS), "code address"),
        ((1 << 16,) * 3 + (0x110, -1, CODE, UNIFORMS), r"cfg\[4\]"),
        ((1 << 16,) * 3 + (0x110, 0, CODE, 1 << 32), r"cfg\[6\]"),
    ],
)
def test_decode_rejects_bad_words(cfg, words):
    with pytest.raises(InvalidArgument, match=words):
        decode_cfg(cfg)


from hypothesis import given
from hypothesis import strategies as st


@given(
    groups=st.tuples(st.integers(1, 300), st.integers(1, 4), st.integers(1, 3)),
    local=st.tuples(st.integers(1, 16), st.integers(1, 4), st.integers(1, 4)),
)
def test_batches_cover_every_invocation_and_decode_back(groups, local):
    c = compute_cfg(workgroups=groups, local_size=local, code_address=CODE, uniforms_address=UNIFORMS)
    num_wgs = groups[0] * groups[1] * groups[2]
    # every supergroup's invocations fit its batches, and no batch is wholly idle
    assert c.batches_per_sg * 16 >= c.wgs_per_sg * c.wg_size > (c.batches_per_sg - 1) * 16
    whole, rest = divmod(num_wgs, c.wgs_per_sg)
    assert c.num_batches == whole * c.batches_per_sg + -(-rest * c.wg_size // 16)
    assert 1 <= c.wgs_per_sg <= min(16, num_wgs)
    d = decode_cfg(c.cfg)
    assert (d.workgroups, d.wg_size, d.wgs_per_sg, d.batches_per_sg, d.num_batches) == (
        c.workgroups, c.wg_size, c.wgs_per_sg, c.batches_per_sg, c.num_batches)
