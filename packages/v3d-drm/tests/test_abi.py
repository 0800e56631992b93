"""The ctypes uAPI must match the kernel's own header, byte for byte.

A C program is generated from ``v3d_drm.uapi``'s tables, compiled with gcc against the kernel's
``include/uapi/drm/{drm,v3d_drm}.h`` (fetched by ``scripts/fetch-uapi-headers.sh``) and run; it
prints what the C compiler thinks every struct size, field offset, field size, request number and
constant is, and each one is compared with the Python side.

Headers are looked up in $V3D_UAPI_INCLUDE, else <repo>/.cache/uapi/drm. Without headers or gcc
the test skips, saying why, except under CI (env CI set), where it fails instead.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from v3d_drm import uapi

REPO = Path(__file__).resolve().parents[3]
DEFAULT_INCLUDE = REPO / ".cache" / "uapi" / "drm"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"ABI test cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def include_dir() -> Path:
    path = Path(os.environ.get("V3D_UAPI_INCLUDE") or DEFAULT_INCLUDE)
    if not (path / "v3d_drm.h").is_file() or not (path / "drm.h").is_file():
        _unavailable(
            f"kernel uAPI headers not found in {path}; run scripts/fetch-uapi-headers.sh "
            "(or set V3D_UAPI_INCLUDE to a directory holding drm.h and v3d_drm.h)"
        )
    return path


@pytest.fixture(scope="module")
def c_values(include_dir: Path, tmp_path_factory) -> dict[str, int]:
    """Compile and run the generated C program; return {key: value} of what it printed."""
    compiler = shutil.which(os.environ.get("CC", "gcc"))
    if compiler is None:
        _unavailable("no C compiler (gcc) on PATH; install gcc to run the ABI test")
    work = tmp_path_factory.mktemp("abi")
    source = work / "abi.c"
    source.write_text(_c_program())
    binary = work / "abi"
    cmd = [compiler, "-std=gnu11", "-Wall", "-D__user=", "-I", str(include_dir), str(source), "-o", str(binary)]
    built = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert built.returncode == 0, f"compiling the ABI probe failed:\n{' '.join(cmd)}\n{built.stderr}"
    ran = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    values = {}
    for line in ran.stdout.splitlines():
        key, value = line.rsplit(" ", 1)
        values[key] = int(value)
    return values


def _c_program() -> str:
    lines = [
        "#include <stdio.h>",
        "#include <stddef.h>",
        '#include "drm.h"',
        '#include "v3d_drm.h"',
        "#define SIZE(s) printf(\"size %s %zu\\n\", #s, sizeof(struct s))",
        (
            "#define FIELD(s, f) printf(\"offset %s.%s %zu\\nfieldsize %s.%s %zu\\n\", #s, #f, "
            "offsetof(struct s, f), #s, #f, sizeof(((struct s *)0)->f))"
        ),
        "#define REQ(r) printf(\"request %s %lu\\n\", #r, (unsigned long)(r))",
        "#define CONST(c) printf(\"const %s %lld\\n\", #c, (long long)(c))",
        "int main(void) {",
    ]
    for struct in uapi.STRUCTS:
        lines.append(f"  SIZE({struct.__name__});")
        for path, _, _ in uapi.field_paths(struct):
            lines.append(f"  FIELD({struct.__name__}, {path});")
    for name in uapi.IOCTLS:
        lines.append(f"  REQ({name});")
    for name in uapi.CONSTANTS:
        lines.append(f"  CONST({name});")
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def test_struct_sizes(c_values):
    checked = 0
    for struct in uapi.STRUCTS:
        assert ctypes.sizeof(struct) == c_values[f"size {struct.__name__}"], struct.__name__
        checked += 1
    assert checked == len(uapi.STRUCTS) >= 29


def test_field_offsets_and_sizes(c_values):
    checked = 0
    for struct in uapi.STRUCTS:
        for path, offset, size in uapi.field_paths(struct):
            key = f"{struct.__name__}.{path}"
            assert offset == c_values[f"offset {key}"], f"offset of {key}"
            assert size == c_values[f"fieldsize {key}"], f"size of {key}"
            checked += 1
    assert checked > 150


def test_request_numbers(c_values):
    for name, (request, _) in uapi.IOCTLS.items():
        assert request == c_values[f"request {name}"], f"{name}: {request:#x} != {c_values[f'request {name}']:#x}"


def test_constants(c_values):
    for name, value in uapi.CONSTANTS.items():
        assert value == c_values[f"const {name}"], name


def test_every_v3d_ioctl_in_the_header_is_defined(include_dir):
    header = (include_dir / "v3d_drm.h").read_text()
    in_header = set(re.findall(r"#define\s+(DRM_IOCTL_V3D_\w+)", header))
    assert in_header, "no DRM_IOCTL_V3D_* macros found in the header"
    assert in_header <= set(uapi.IOCTLS), f"missing in uapi: {sorted(in_header - set(uapi.IOCTLS))}"


def test_every_struct_in_the_header_is_defined(include_dir):
    header = (include_dir / "v3d_drm.h").read_text()
    in_header = set(re.findall(r"^struct\s+(drm_v3d_\w+)\s*\{", header, flags=re.MULTILINE))
    assert in_header <= {s.__name__ for s in uapi.STRUCTS}, sorted(in_header - {s.__name__ for s in uapi.STRUCTS})


def test_abi_figures(c_values, capsys):
    """Report how much was checked (printed with -s; asserted so the figure cannot silently shrink)."""
    sizes = sum(1 for k in c_values if k.startswith("size "))
    offsets = sum(1 for k in c_values if k.startswith("offset "))
    requests = sum(1 for k in c_values if k.startswith("request "))
    constants = sum(1 for k in c_values if k.startswith("const "))
    print(f"ABI checked: {sizes} struct sizes, {offsets} field offsets (+ as many field sizes), "
          f"{requests} request numbers, {constants} constants")
    assert sizes == len(uapi.STRUCTS) and requests == len(uapi.IOCTLS)
