"""Where the compiled emulator is cached: one folder per machine source version, outside the package."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")  # the cache is numba's (vc6-isa[fast])

from vc6_isa.emulator import compile_cache
from vc6_isa.emulator.jit import JIT_ENABLED

PACKAGE = Path(compile_cache.__file__).resolve().parents[1]  # vc6_isa/
needs_numba = pytest.mark.skipif(not JIT_ENABLED, reason="numba is not installed (or VC6_NO_JIT is set)")


def _copy_emulator(dest: Path) -> Path:
    """A copy of vc6_isa/emulator under `dest`; returns its machine entry (machine/run.py)."""
    shutil.copytree(PACKAGE / "emulator", dest / "vc6_isa" / "emulator", ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "vc6_isa" / "emulator" / "machine" / "run.py"


def test_the_machine_sources_are_what_run_imports_and_nothing_else():
    names = {p.relative_to(PACKAGE).as_posix() for p in compile_cache.machine_sources()}
    for needed in ("emulator/machine/run.py", "emulator/machine/issue.py", "emulator/machine/ops.py",
                   "emulator/semantics.py", "emulator/fp.py", "emulator/hostmem.py", "emulator/layout.py",
                   "emulator/jit.py"):
        assert needed in names
    for not_compiled in ("emulator/executor.py", "emulator/profile.py", "emulator/dispatch.py", "encoding.py"):
        assert not_compiled not in names


def _full_parse(source: bytes) -> list[str]:
    return sorted(ast.dump(node) for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.ImportFrom) and node.level > 0)


def _scanned(source: bytes) -> list[str]:
    return sorted(ast.dump(node) for node in compile_cache.relative_imports(source))


def test_the_statement_scan_finds_what_a_full_parse_finds_in_every_module_of_the_package():
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 50
    for path in paths:
        source = path.read_bytes()
        assert _scanned(source) == _full_parse(source), path


def test_the_statement_scan_reads_every_way_of_writing_a_relative_import():
    source = b"""\
from .a import x
from . import (b,  # a comment with ) and ( and # in it
    c as d,
)
from..e.f import g; from .h import i
def later():
    from ...j import \\
        k
    import os, sys
if True: from.l import m
\"\"\"A docstring:
from .n import (
\"\"\"
"""
    assert _scanned(source) == _full_parse(source)
    assert len(_full_parse(source)) == 6
    look_alike = b'TEXT = """\nfrom .o import p\n"""\n'  # a string that parses: one more file, never one less
    assert _scanned(look_alike) == _full_parse(b"from .o import p\n") and _full_parse(look_alike) == []


def test_an_edit_to_a_helper_file_changes_the_digest_but_not_an_unrelated_file(tmp_path):
    entry = _copy_emulator(tmp_path)
    before = compile_cache.source_digest(entry)
    assert before == compile_cache.source_digest()  # same sources, another path: the same build
    executor = entry.parents[1] / "executor.py"
    executor.write_text(executor.read_text() + "\n# not part of the machine\n")
    assert compile_cache.source_digest(entry) == before
    fp = entry.parents[1] / "fp.py"  # reached only through semantics.py
    fp.write_text(fp.read_text() + "\n# an edit\n")
    assert compile_cache.source_digest(entry) != before


def test_the_cache_is_under_numba_cache_dir_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert compile_cache.cache_root() == tmp_path / "vc6_isa"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    root = compile_cache.cache_root()
    assert root.parts[-2:] == ("vc6_isa", "numba") and PACKAGE not in root.parents


def _run(code: str, cache_dir: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env.pop("VC6_NO_JIT", None)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], env=env, capture_output=True, text=True,
                          check=True)


FADD = "from vc6_isa.emulator import semantics as S; print(S.fadd(0x3F800000, 0x3F800000))"


@needs_numba
def test_importing_the_machine_writes_nothing(tmp_path):
    code = "import numba, vc6_isa.emulator.machine.run as r, vc6_isa.emulator as e; print(numba.config.OPT)"
    out = _run(code, str(tmp_path))
    default = subprocess.run([sys.executable, "-c", "import numba; print(numba.config.OPT)"],
                             capture_output=True, text=True, check=True)
    assert out.stdout == default.stdout  # numba's level is untouched
    assert list(tmp_path.iterdir()) == []


@needs_numba
def test_compiled_code_goes_to_the_build_folder_only_and_is_reused(tmp_path):
    stamp = {p: p.stat().st_mtime for p in PACKAGE.rglob("*") if p.is_file()}
    first = _run(FADD, str(tmp_path))
    assert first.stdout.strip() == "(1073741824, 0)"  # 1.0 + 1.0 = 2.0 (0x40000000), no carry
    builds = list((tmp_path / "vc6_isa").iterdir())
    assert len(builds) == 1 and any(builds[0].glob("semantics.fadd-*.nbi"))
    assert {p: p.stat().st_mtime for p in PACKAGE.rglob("*") if p.is_file()} == stamp  # nothing in the package
    again = _run(FADD + "; print(sum(S.fadd._python_copy._cache_hits.values()))", str(tmp_path))
    assert again.stdout.split() == ["(1073741824,", "0)", "1"]  # loaded from the cache, not compiled


@needs_numba
def test_an_unwritable_cache_folder_warns_and_still_computes(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # NUMBA_CACHE_DIR below a file: no folder can be made there, even as root
    out = _run(FADD, str(blocker / "cache"))
    assert out.stdout.strip() == "(1073741824, 0)"
    assert "could not be cached" in out.stderr and "NUMBA_CACHE_DIR" in out.stderr


@needs_numba
def test_processes_compiling_at_once_share_the_folder(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("VC6_NO_JIT", None)
    procs = [subprocess.Popen([sys.executable, "-c", FADD], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert outs == ["(1073741824, 0)"] * 3 and all(p.returncode == 0 for p in procs)
    assert _run(FADD, str(tmp_path)).stdout.strip() == "(1073741824, 0)"
