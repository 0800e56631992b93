"""Where numba keeps the compiled emulator machine: one user-wide cache per source version.

numba's own cache is kept per source file (next to it, or under `NUMBA_CACHE_DIR` in a folder
named after the file's path) and stamped with that one file's contents. The machine is spread
over many files whose functions are compiled into each other, so a caller cached by numba would
keep the old code of a helper edited in another file, and every install (venv, clone, wheel)
would compile again. Here the compiled machine lives in

    <user cache dir>/vc6_isa/numba/<build key>/     (`~/.cache/vc6_isa/numba/...` on Linux)
    $NUMBA_CACHE_DIR/vc6_isa/<build key>/           (when `NUMBA_CACHE_DIR` is set)

where the build key is a digest of every source file the machine is compiled from (its entry
module `machine/run.py` and, transitively, the emulator modules it imports), numba's, llvmlite's and Python's
versions, the host CPU and the optimisation level. Every install of the same sources on one
machine shares it, an edit anywhere in the machine gives a new key, and nothing is written
into the installed package. Inside the folder the files are numba's own (index and data files,
written atomically, so concurrent processes at worst compile twice).

A cache folder that cannot be created or written is not an error: the machine is compiled (and,
if a readable build is there, loaded) as usual, with a warning saying how to fix it. Only the
newest `KEEP_BUILDS` build folders are kept; older ones are removed when a new build is saved.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import platform
import re
import shutil
import sys
import warnings
from pathlib import Path

from numba.core import caching

__all__ = ["ENTRY", "KEEP_BUILDS", "MachineCache", "build_dir", "build_key", "cache_root", "has_build",
           "machine_sources", "relative_imports", "source_digest"]

#: How many build folders (source versions) to keep in the cache root.
KEEP_BUILDS = 4

#: The machine's entry module: the build key covers it and everything it imports.
ENTRY = Path(__file__).resolve().parent / "machine" / "run.py"


def cache_root() -> Path:
    """The folder holding one build folder per source version (see the module docstring)."""
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir) / "vc6_isa"
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs(appname="vc6_isa", appauthor=False).user_cache_dir) / "numba"


def machine_sources(entry: Path = ENTRY) -> list[Path]:
    """The source files the machine is compiled from: `entry` (`vc6_isa/emulator/machine/run.py`)
    and every module of its package that it imports, transitively (relative imports: the machine
    imports nothing else of this project)."""
    package_root = entry.resolve().parents[2]  # vc6_isa/
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for node in relative_imports(path.read_bytes()):
            base = path.parents[node.level - 1]
            modules = [node.module.split(".")] if node.module else [[a.name] for a in node.names]
            for module in modules:
                target = base.joinpath(*module)
                for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                    if candidate.is_file() and package_root in candidate.parents:
                        todo.append(candidate)
    return sorted(seen)


# Where a relative import statement may start: `from .` first on a line, or after a `;` or the
# `:` of a one-line compound statement (`if x: from .a import b`).
_RELATIVE_FROM = re.compile(rb"(?:^|[;:])[ \t]*(from[ \t]*\.)", re.MULTILINE)


def relative_imports(source: bytes) -> list[ast.ImportFrom]:
    """The relative import statements (`from .x import y`, `from .. import (a, b)`) of a module.

    Only the statements that start like one are parsed, one by one: parsing the machine's
    ~220 kB of source whole took ~0.07 s, in every process that looks for the compiled machine
    (every emulator user's first job). A line inside a string that looks like a relative import
    (or a comment) is parsed too: when it parses, it can only add a file to the build key, never
    drop one.

    Args:
        source: The module's source.

    Returns:
        The statements, as `ast.ImportFrom` nodes with `level > 0`, in source order.
    """
    found = []
    for match in _RELATIVE_FROM.finditer(source):
        try:
            tree = ast.parse(_statement_at(source, match.start(1)).strip())
        except SyntaxError:
            continue  # a look-alike inside a string
        found += [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.level > 0]
    return found


def _statement_at(source: bytes, start: int) -> bytes:
    """The simple statement starting at `start`: up to its newline or `;` outside brackets
    (an import statement holds no strings; comments and backslash line joins are skipped)."""
    depth, i, end = 0, start, len(source)
    while i < end:
        char = source[i : i + 1]
        if char == b"#":
            newline = source.find(b"\n", i)
            i = end if newline < 0 else newline
            continue
        if char == b"\\" and source[i + 1 : i + 2] == b"\n":
            i += 2
            continue
        if char == b"(":
            depth += 1
        elif char == b")":
            depth -= 1
        elif char in (b"\n", b";") and depth <= 0:
            break
        i += 1
    return re.sub(rb"#[^\n]*|\\\n", b" ", source[start:i])


def source_digest(entry: Path = ENTRY) -> str:
    """A digest of the machine's sources (their paths relative to the package and contents)."""
    package_root = entry.resolve().parents[2]
    digest = hashlib.sha256()
    for source in machine_sources(entry):
        digest.update(source.relative_to(package_root).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def build_key(opt_level: str) -> str:
    """The build folder's name: a digest of what the compiled machine depends on (the sources,
    numba, llvmlite, Python, the host CPU and numba's optimisation level `opt_level`)."""
    import llvmlite
    import llvmlite.binding as ll
    import numba

    digest = hashlib.sha256()
    for part in (source_digest(), numba.__version__, llvmlite.__version__, sys.implementation.cache_tag,
                 platform.machine(), ll.get_host_cpu_name(), ll.get_host_cpu_features().flatten(), opt_level):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:20]


def build_dir(opt_level: str) -> Path:
    """The folder the machine (compiled at `opt_level`) is cached in."""
    return cache_root() / build_key(opt_level)


def has_build(func) -> bool:
    """Whether a compiled `func` (a jitted entry point) for this host is cached on disk.

    Reads the index numba keeps next to the build (no compile, no import of numba's compiler).
    """
    cache = getattr(func, "_cache", None)
    if not isinstance(cache, MachineCache):
        return False
    return cache.has_build()


class _Locator(caching._CacheLocator):
    """numba's cache locator for the machine: the build folder of its source version."""

    def __init__(self, py_func, py_file: str, opt_level: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._path = build_dir(opt_level)

    def get_cache_path(self) -> str:
        return str(self._path)

    def get_source_stamp(self) -> str:
        return self._path.name  # the build key already covers every source file

    def get_disambiguator(self) -> str:
        return str(self._lineno)


class MachineCache(caching.Cache):
    """numba's per-function cache (`numba.core.caching.FunctionCache`), kept in the build folder.

    Install it on a dispatcher as `dispatcher._cache = MachineCache(py_func, opt_level)` (numba's level, as text) (what
    `Dispatcher.enable_caching` does with numba's own). Creating it only reads the sources;
    folders are created when the first build is saved.
    """

    class _Impl(caching.CompileResultCacheImpl):
        def __init__(self, py_func, opt_level: str) -> None:
            self._lineno = py_func.__code__.co_firstlineno
            source = Path(py_func.__code__.co_filename)
            self._locator = _Locator(py_func, str(source), opt_level)
            name = getattr(py_func, "__qualname__", py_func.__name__)
            self._filename_base = self.get_filename_base(f"{source.stem}.{name}", getattr(sys, "abiflags", ""))

    def __init__(self, py_func, opt_level: str) -> None:
        self._opt_level = opt_level
        self._impl_class = functools.partial(self._Impl, opt_level=opt_level)
        super().__init__(py_func)

    def has_build(self) -> bool:
        """Whether the index lists a build for this host (any signature)."""
        try:
            from numba.core.registry import cpu_target

            magic = cpu_target.target_context.codegen().magic_tuple()
            return any(key[1] == magic for key in self._cache_file._load_index())
        except Exception:  # noqa: BLE001 - unreadable or foreign index: not cached
            return False

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError):
            return None  # unreadable or damaged files: compile instead (and save over them)

    def save_overload(self, sig, data) -> None:
        try:
            super().save_overload(sig, data)
        except OSError as exc:
            self._warn_once(f"vc6_isa: the compiled emulator could not be cached in {self._cache_path} ({exc}); "
                            "every process will compile it again. Set NUMBA_CACHE_DIR to a writable folder.")
            return
        _prune(Path(self._cache_path))

    def _warn_once(self, message: str) -> None:
        if self._cache_path not in _WARNED:
            _WARNED.add(self._cache_path)
            warnings.warn(message, RuntimeWarning, stacklevel=3)


_WARNED: set[str] = set()  # cache folders already warned about in this process


def _prune(keep: Path) -> None:
    """Remove all but the `KEEP_BUILDS` most recently written build folders next to `keep`."""
    try:
        builds = [p for p in keep.parent.iterdir() if p.is_dir() and p != keep]
        builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in builds[KEEP_BUILDS - 1:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass  # another process pruned first, or the root is not ours to list
