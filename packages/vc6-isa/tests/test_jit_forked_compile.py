"""jit.py's forked compile (`compile_split`, `_forked_compile`): a cold compile of an entry shared
with a forked process, whose compiles are installed in this process's dispatchers, and every way
it can go wrong ending as a compile in this process alone."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba")

from vc6_isa.emulator import jit

needs_fork = pytest.mark.skipif(not jit.JIT_ENABLED or not hasattr(os, "fork") or sys.platform == "darwin",
                                reason="needs numba and os.fork (not macOS)")


def _split_entry():
    """An entry calling two machine functions that share a callee, split between the two
    processes: (entry, here, forked, shared)."""
    shared = jit.jit_lean(lambda x: x * 3)

    def here(x):
        return shared(x) + 1

    def forked(x):
        return shared(x) + 2

    here, forked = jit.jit_lean(here), jit.jit_lean(forked)

    def entry(x):
        return here(x) + forked(x)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    jit.compile_split(compiled, here=((here, 0),), forked=((forked, 0),))
    return compiled, here, forked, shared


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _assert_no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@needs_fork
def test_the_forked_process_compiles_its_part_and_this_process_installs_it(monkeypatch):
    """With the fork on, the forked function's compile comes from the child (a `_ForkedLibrary`,
    read from bitcode) and calls this process's copy of the callee both share (compiled once
    here, only typed there); the entry runs. No child and no pipe are left."""
    monkeypatch.setenv("VC6_FORK_COMPILE", "2")
    forks = []
    original = jit._forked_compile
    monkeypatch.setattr(jit, "_forked_compile", lambda *a: forks.append(a) or original(*a))
    fds = _open_fds()
    entry, here, forked, shared = _split_entry()
    assert entry(5) == (15 + 1) + (15 + 2)
    assert len(forks) == 1
    (forked_cres,) = forked.overloads.values()
    (here_cres,) = here.overloads.values()
    (shared_cres,) = shared.overloads.values()
    assert isinstance(forked_cres.library, jit._ForkedLibrary)
    assert not isinstance(here_cres.library, jit._ForkedLibrary)
    assert not isinstance(shared_cres.library, jit._ForkedLibrary)
    assert shared_cres.library in forked_cres.library._linking_libraries
    declared = [f.name for f in forked_cres.library._final_module.functions if f.is_declaration]
    assert shared_cres.fndesc.mangled_name in declared  # its call renamed to this process's copy
    assert _open_fds() == fds
    _assert_no_child_left()


@needs_fork
def test_without_the_switch_or_an_idle_core_nothing_forks(monkeypatch):
    """`VC6_FORK_COMPILE=1` forks only with an idle core (`_idle_cores`), `0` never; then the
    entry compiles as without a split, and `os.fork` is not called."""

    forks = []

    def no_fork():
        forks.append(True)
        raise OSError("no fork here")  # as where a fork fails: the compile goes on without one

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(jit, "_idle_cores", lambda: 0.6)
    for switch in ("1", "0"):
        monkeypatch.setenv("VC6_FORK_COMPILE", switch)
        entry, _, forked, _ = _split_entry()
        assert entry(2) == 7 + 8
        assert not isinstance(next(iter(forked.overloads.values())).library, jit._ForkedLibrary)
    assert not forks
    monkeypatch.setattr(jit, "_idle_cores", lambda: 1.2)
    monkeypatch.setenv("VC6_FORK_COMPILE", "1")
    assert _split_entry()[0](2) == 7 + 8
    assert forks == [True]


@needs_fork
@pytest.mark.parametrize("how", ["dies", "hangs", "sends garbage"])
def test_a_child_that_dies_hangs_or_fails_leaves_the_compile_to_this_process(monkeypatch, how):
    """Whatever happens to the child, the entry compiles here, correctly, and no child process
    or pipe is left (a hanging child is killed after `FORK_TIMEOUT`)."""
    parent = os.getpid()
    numba_results = jit._child_results

    def child_results(*args):
        if os.getpid() != parent:
            if how == "dies":
                os._exit(3)
            if how == "hangs":
                import time

                time.sleep(3600)
        results = numba_results(*args)
        return ([(i, a, None, None, None, None) for i, a, *_ in results[0]], [], []) if how == "sends garbage" else results

    monkeypatch.setattr(jit, "_child_results", child_results)
    monkeypatch.setattr(jit, "FORK_TIMEOUT", 1.0)
    monkeypatch.setenv("VC6_FORK_COMPILE", "2")
    fds = _open_fds()
    entry, _, forked, _ = _split_entry()
    assert entry(4) == 13 + 14
    assert not isinstance(next(iter(forked.overloads.values())).library, jit._ForkedLibrary)
    assert _open_fds() == fds
    _assert_no_child_left()


@needs_fork
def test_the_wait_for_the_child_scales_with_this_process_part(monkeypatch):
    """This process waits for the child twice as long as its own part took, at least
    `FORK_WAIT_MIN` and at most `FORK_TIMEOUT`: a stuck child costs the machine's compile
    seconds, not `FORK_TIMEOUT`'s minute. (This entry's own part takes well under 15 s.)"""
    asked = []
    results = jit._ForkedChild.results

    def recording(child, timeout):
        asked.append(timeout)
        return results(child, timeout)

    monkeypatch.setattr(jit._ForkedChild, "results", recording)
    monkeypatch.setattr(jit, "FORK_WAIT_MIN", 30.0)
    monkeypatch.setattr(jit, "FORK_TIMEOUT", 45.0)
    monkeypatch.setenv("VC6_FORK_COMPILE", "2")
    entry, _, forked, _ = _split_entry()
    assert entry(4) == 13 + 14
    assert asked == [30.0]
    assert isinstance(next(iter(forked.overloads.values())).library, jit._ForkedLibrary)
    _assert_no_child_left()


@needs_fork
def test_an_interrupt_while_the_child_compiles_ends_the_child(monkeypatch):
    """A KeyboardInterrupt in this process during its part of the compile ends the child too:
    killed, waited for, its pipe closed; the compile lock and settings are released."""
    parent = os.getpid()
    numba_compile_for_call = jit._compile_for_call

    def interrupted(func, args):
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return numba_compile_for_call(func, args)

    monkeypatch.setattr(jit, "_compile_for_call", interrupted)
    monkeypatch.setenv("VC6_FORK_COMPILE", "2")
    fds = _open_fds()
    entry, _, _, _ = _split_entry()
    with pytest.raises(KeyboardInterrupt):
        entry(1)
    assert _open_fds() == fds
    _assert_no_child_left()
    assert jit._memo_depth == 0
    monkeypatch.undo()
    assert _split_entry()[0](1) == 4 + 5


def _broken_entry():
    """An entry calling two machine functions that share a callee, the second of which does not
    compile (it adds a string to a number), split as `_split_entry`."""
    shared = jit.jit_lean(lambda x: x * 3)
    here = jit.jit_lean(lambda x: shared(x) + 1)
    broken = jit.jit_lean(lambda x: shared(x) + "text")

    def entry(x):
        return here(x) + broken(x)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    jit.compile_split(compiled, here=((here, 0),), forked=((broken, 0),))
    return compiled


@needs_fork
def test_a_compile_error_in_the_forked_part_is_raised_as_without_the_fork(monkeypatch):
    """A function of the forked part that does not compile fails the child; the entry's own
    compile then meets it and raises numba's error, the same one as without a fork."""

    def errors(switch):
        monkeypatch.setenv("VC6_FORK_COMPILE", switch)
        with pytest.raises(Exception) as raised:
            _broken_entry()(1)
        return raised

    fds = _open_fds()
    forked, alone = errors("2"), errors("0")
    assert type(forked.value) is type(alone.value)
    assert "text" in str(forked.value) and str(forked.value).splitlines()[:2] == str(alone.value).splitlines()[:2]
    assert _open_fds() == fds
    _assert_no_child_left()


@pytest.mark.skipif(not jit.JIT_ENABLED, reason="numba is not installed (or VC6_NO_JIT is set)")
def test_a_compile_error_with_the_llvm_worker_on_is_raised_without_a_hang(tmp_path):
    """A machine function that does not compile, after others were queued on jit.py's LLVM
    worker (no fork): the compile raises numba's error. The worker used to be cleared before it
    ran what was still queued, and then waited for its own job forever (a hang instead of the
    error). In a subprocess, so that a hang fails the test instead of the run."""
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["VC6_FORK_COMPILE"] = "0"
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from vc6_isa.emulator import jit
        from test_jit_forked_compile import _broken_entry
        jit._idle_cores = lambda: 1.5
        try:
            _broken_entry()(1)
        except Exception as error:
            print(type(error).__name__)
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("VC6_NO_JIT", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "TypingError"


@needs_fork
def test_the_machine_compiled_with_the_fork_runs_and_its_cached_entry_loads_elsewhere(tmp_path):
    """The machine's own split (machine/run.py): with the fork forced, `step` and the thread
    functions come from the child and `fast_run` from this process, each compiled once (the
    split's types are those `run` passes); a job runs, and a fresh process loads the cached entry
    and gets the same result."""
    script = textwrap.dedent("""
        import sys
        from vc6_isa.emulator.executor import Executor, empty_job
        from vc6_isa.emulator.machine import issue, threads
        result = Executor().run_csd(empty_job())
        print(str(result.stats).split("; emulator wall")[0])  # the modelled figures
        if sys.argv[1] == "compile":
            print({f.py_func.__name__: [type(c.library).__name__ for c in f.overloads.values()]
                   for f in (issue.step, issue.fast_run, threads.fill_free_slots, threads.pick_thread)})
    """)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "VC6_FORK_COMPILE": "2"}
    runs = [subprocess.run([sys.executable, "-c", script, stage], env=env, capture_output=True, text=True,
                           timeout=600, check=False) for stage in ("compile", "load")]
    for run in runs:
        assert run.returncode == 0, run.stderr
    compiled, loaded = runs[0].stdout.splitlines(), runs[1].stdout.splitlines()
    assert loaded == compiled[:1] and "instructions" in compiled[0]
    assert compiled[1] == str({"step": ["_ForkedLibrary"], "fast_run": ["_LinkOnlyLibrary"],
                               "fill_free_slots": ["_ForkedLibrary"], "pick_thread": ["_ForkedLibrary"]})
