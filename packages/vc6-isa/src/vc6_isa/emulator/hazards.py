"""The rules the emulator checks, one code each, with the text its error messages cite.

The compiled run loop reports a broken rule as a small integer (`H_*`); `RULES` turns it
into the reference rule number and a sentence. Rule numbers are those of
`shared/reference/vc6-isa.md` section 13 (`13.x/n`) or the section that states the rule.
`STRICT_ONLY` rules have a well-defined fallback and are only reported in strict mode;
the others cannot be emulated meaningfully (the hardware would hang or fault) and always raise.

Levels (executor option `strict`). The default level checks what the hardware requires and
never rejects a program that ran correctly on a Pi 4: py-videocore6's hardware-validated tests
and examples (reference Appendix G; ported as tests/test_hw_*.py) all pass it. Rules that such a
program breaks are Mesa's scheduling conventions and live in `MESA_ONLY`, checked only at the
`"mesa"` level. Two rules are dynamic instead of positional: an accumulator or flag read is
undefined only when another thread of the QPU changed it since the reader last wrote it (or at
thread start); at the `"mesa"` level any read after a thread switch is reported (reference
1.2, G.2).
"""

H_R4_EARLY = 1
H_R4_WRITE_EARLY = 2
H_BRANCH_IN_DELAY = 3
H_THRSW_IN_BRANCH_DELAY = 4
H_BRANCH_IN_THRSW_DELAY = 5
H_THRSW_TOO_CLOSE = 6
H_SECOND_MARKER = 7
H_SFU_IN_THRSW_DELAY = 8
H_FIFO_OVERFLOW = 9
H_LDTMU_EMPTY = 10
H_TWO_PERIPHERALS = 11
H_SAME_DEST_TWICE = 12
H_UNIFA_TOO_CLOSE = 13
H_ROT_SOURCE_WRITTEN = 14
H_ROT_R5_WRITTEN = 15
H_PAST_END = 16
H_END_RF_WRITE = 17
H_END_TMUWT = 18
H_END_RESULTS = 19
H_END_WRITES = 20
H_BUDGET = 21
H_SWITCH_IN_SEQUENCE = 22
H_TMUD_TOO_MANY = 23
H_TMU_DATA_COUNT = 24
H_UNSUPPORTED_OP = 25
H_UNSUPPORTED_MAGIC = 26
H_UNSUPPORTED_SIGNAL = 27
H_RF_4THREAD = 28
H_ACC_UNDEFINED = 29
H_FLAGS_UNDEFINED = 30
H_BARRIER_DEADLOCK = 31
H_BRANCH_TARGET = 32
H_TWO_UNIFORMS = 33
H_BRANCH_AFTER_UNIFA = 34
H_MISALIGNED = 35
H_UNIFA_ACROSS_SWITCH = 36
H_RTOP_UNDEFINED = 37
H_TMU_OP = 38

#: code -> (reference rule, what was broken)
RULES: dict[int, tuple[str, str]] = {
    H_R4_EARLY: ("13.2/6", "r4 read in the instruction right after a legacy SFU write; the result lands at t+2"),
    H_R4_WRITE_EARLY: ("13.2/6", "r4 or another SFU written in the instruction right after a legacy SFU write"),
    H_BRANCH_IN_DELAY: ("13.3/13", "branch inside the three delay slots of another branch"),
    H_THRSW_IN_BRANCH_DELAY: ("13.3/14", "thrsw inside branch delay slots"),
    H_BRANCH_IN_THRSW_DELAY: ("13.3/14", "branch inside the two delay slots of a thrsw"),
    H_THRSW_TOO_CLOSE: ("13.4/17", "two thrsw less than 3 instructions apart (only two consecutive ones, the last-thread-switch marker, are allowed)"),
    H_SECOND_MARKER: ("13.4/17", "a second last-thread-switch marker (two consecutive thrsw)"),
    H_SFU_IN_THRSW_DELAY: ("13.4/20", "legacy SFU write inside thrsw delay slots (its r4 result would land in the next thread)"),
    H_FIFO_OVERFLOW: ("13.6/31", "too many outstanding TMU result words: the output FIFO holds 16/threads words per thread"),
    H_LDTMU_EMPTY: ("12.1", "ldtmu with no TMU result pending (the hardware would hang)"),
    H_TWO_PERIPHERALS: ("13.1/1", "more than one peripheral access (TMU/SFU/TSY/TLB/VPM write, ldtmu) in one instruction"),
    H_SAME_DEST_TWICE: ("13.1/5", "the same register written twice in one instruction"),
    H_UNIFA_TOO_CLOSE: ("13.2/9", "ldunifa/ldunifarf less than 4 instructions after the unifa write (three must lie in between)"),
    H_ROT_SOURCE_WRITTEN: ("13.2/10", "rotated source written by the previous instruction"),
    H_ROT_R5_WRITTEN: ("13.2/10", "rotation by r5 with r5 written by the previous instruction"),
    H_PAST_END: ("13.4/19", "execution ran past the end of the program (the word does not decode) without a thread-end thrsw"),
    H_END_RF_WRITE: ("13.5/26", "register-file write in the thread-end thrsw instruction or its two delay slots"),
    H_END_TMUWT: ("13.5/28", "tmuwt in the last instruction of the program (GFXH-1625)"),
    H_END_RESULTS: ("13.6/32", "program ended with TMU results not popped by ldtmu"),
    H_END_WRITES: ("13.6/32", "program ended with TMU writes not waited for with tmuwt"),
    H_BUDGET: ("4.8 (uapi)", "the job did not finish within the cycle budget (a real GPU would hang and be reset)"),
    H_SWITCH_IN_SEQUENCE: ("13.6/32", "thread switch or program end in the middle of a TMU lookup sequence (tmuc/tmud written, no tmua yet)"),
    H_TMUD_TOO_MANY: ("12.1", "more than four tmud data words for one TMU lookup"),
    H_TMU_DATA_COUNT: ("12.1", "number of tmud data words does not match the lookup's configured vector size"),
    H_UNSUPPORTED_OP: ("10.8", "operation not available to compute shaders (fragment/vertex only)"),
    H_UNSUPPORTED_MAGIC: ("8", "write to a magic address that compute shaders cannot use (texture/TLB/VPM/reserved)"),
    H_UNSUPPORTED_SIGNAL: ("5.1", "signal not available to compute shaders (ldvary/ldtlb/ldtlbu)"),
    H_RF_4THREAD: ("1.3", "rf32-rf63 accessed by a 4-way threaded program (only rf0-rf31 belong to the thread)"),
    H_ACC_UNDEFINED: ("1.2", "accumulator read while undefined: at thread start, after another thread of the QPU changed it since this one wrote it, or ('mesa' level) after a thread switch"),
    H_FLAGS_UNDEFINED: ("1.2", "flags read while undefined: at thread start, after another thread of the QPU changed them since this one set them, or ('mesa' level) after a thread switch"),
    H_BARRIER_DEADLOCK: ("12.4", "barrier can never complete: the rest of the supergroup cannot become resident or has ended"),
    H_BRANCH_TARGET: ("9.2", "branch target outside the program"),
    H_TWO_UNIFORMS: ("13.1/2", "more than one uniform-consuming operation in one instruction"),
    H_BRANCH_AFTER_UNIFA: ("13.3/15", "branch within the three instructions after a unifa write"),
    H_MISALIGNED: ("12.1", "TMU address not naturally aligned for the access size"),
    H_UNIFA_ACROSS_SWITCH: ("13.4/23", "a unifa write and the three instructions after it span a thread switch"),
    H_RTOP_UNDEFINED: ("10.11", "umul24 after a thread switch without a new multop (rtop is undefined)"),
    H_TMU_OP: ("12.1", "TMU configuration op/type not supported for general memory access"),
}  # fmt: skip

#: Strict levels (executor option ``strict``): off; the hardware's rules (default); and the
#: hardware's rules plus Mesa's scheduling conventions that the hardware tolerates.
STRICT_OFF = 0
STRICT_HARDWARE = 1
STRICT_MESA = 2

#: Rules checked only at the ``"mesa"`` level: programs that ran correctly on a Pi 4 break them
#: (reference Appendix G), so they are Mesa conventions, not hardware rules.
MESA_ONLY = frozenset({
    H_THRSW_TOO_CLOSE,  # G.3: py-videocore6's ALU/SFU test preamble, thrsw two apart
    H_BRANCH_AFTER_UNIFA,  # G.4: py-videocore6 test_unifa
    # py-videocore6's test_tmu_vec_read/test_tmu_vec_write and test_unifa end with TMU writes
    # not waited for and pass on hardware (the kernel's end-of-job flush completes them)
    H_END_WRITES,
})  # fmt: skip

#: Rules with a well-defined fallback: reported only in strict mode.
STRICT_ONLY = frozenset({
    H_R4_EARLY, H_R4_WRITE_EARLY, H_BRANCH_IN_DELAY, H_THRSW_IN_BRANCH_DELAY,
    H_BRANCH_IN_THRSW_DELAY, H_THRSW_TOO_CLOSE, H_SECOND_MARKER, H_SFU_IN_THRSW_DELAY,
    H_FIFO_OVERFLOW, H_TWO_PERIPHERALS, H_SAME_DEST_TWICE, H_UNIFA_TOO_CLOSE,
    H_ROT_SOURCE_WRITTEN, H_ROT_R5_WRITTEN, H_END_RF_WRITE, H_END_TMUWT, H_END_RESULTS,
    H_END_WRITES, H_SWITCH_IN_SEQUENCE, H_TMU_DATA_COUNT, H_RF_4THREAD, H_ACC_UNDEFINED,
    H_FLAGS_UNDEFINED, H_TWO_UNIFORMS, H_BRANCH_AFTER_UNIFA, H_MISALIGNED,
    H_UNIFA_ACROSS_SWITCH, H_RTOP_UNDEFINED,
})  # fmt: skip


def rule_anchor(rule: str) -> str:
    """The anchor of a rule on the docs' hazard-rules page (`reference/rules.html`).

    Args:
        rule: A rule number as `RULES` gives it, such as `"13.6/32"` or `"4.8 (uapi)"`.

    Returns:
        The anchor, such as `"rule-13-6-32"`; the docs build fails if the page lacks it.
    """
    words = "".join(c if c.isalnum() else " " for c in rule.lower()).split()
    return "rule-" + "-".join(words)
