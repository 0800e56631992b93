"""Asking whether the emulator's one-time compile is due, and doing it up front."""

import os
import subprocess
import sys

from vc6_isa import emulator
from vc6_isa.emulator import Executor

ASK = "import sys, vc6_isa.emulator as e; print(e.compiled(), 'vc6_isa.emulator.machine.run' not in sys.modules)"


def test_after_warm_up_nothing_is_due():
    emulator.warm_up()
    assert emulator.compiled() is True
    assert emulator.warm_up() is None  # nothing left to do: no job is run
    assert Executor.compiled() is True and Executor.compile_seconds > 0


def test_a_machine_never_built_here_is_due_and_the_answer_compiles_nothing(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("VC6_NO_JIT", None)
    answer = subprocess.run([sys.executable, "-c", ASK], env=env, capture_output=True, text=True, check=True)
    jit = subprocess.run([sys.executable, "-c", "import vc6_isa.emulator.jit as j; print(j.JIT_ENABLED)"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    expected = "False True" if jit == "True" else "True True"  # without numba nothing is ever due
    assert answer.stdout.strip() == expected
    assert list(tmp_path.rglob("*.nb*")) == []  # the question compiled nothing


def test_without_numba_nothing_is_due(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), VC6_NO_JIT="1")
    answer = subprocess.run([sys.executable, "-c", ASK], env=env, capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "True True"


def test_the_profiled_entry_is_due_on_its_own_and_the_answer_compiles_nothing(tmp_path):
    from vc6_isa.emulator.machine import run
    from vc6_isa.emulator.warmup import ENTRY, PROFILED_ENTRY

    # one scheduler, two compiled copies: PROFILING decides which branches numba keeps
    plain, profiled = getattr(run, ENTRY).py_func, getattr(run, PROFILED_ENTRY).py_func
    assert profiled.__code__ is plain.__code__
    assert (plain.__globals__["PROFILING"], profiled.__globals__["PROFILING"]) == (False, True)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("VC6_NO_JIT", None)
    ask = f"import vc6_isa.emulator.warmup as w; print(w.compiled({PROFILED_ENTRY!r}))"
    answer = subprocess.run([sys.executable, "-c", ask], env=env, capture_output=True, text=True, check=True)
    jit = subprocess.run([sys.executable, "-c", "import vc6_isa.emulator.jit as j; print(j.JIT_ENABLED)"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert answer.stdout.strip() == ("False" if jit == "True" else "True")
    assert list(tmp_path.rglob("*.nb*")) == []
