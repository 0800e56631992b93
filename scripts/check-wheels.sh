#!/usr/bin/env bash
# Install vc6-kernels BY NAME from a wheelhouse into a fresh venv and run one routine on the
# emulator from it, outside the source tree: proves the wheels are complete and that their
# dependencies (v3d-drm, vc6-isa, numpy) resolve.
#
#   bash scripts/check-wheels.sh WHEELHOUSE
set -euo pipefail
wheelhouse="$(cd "$1" && pwd)"
python="${PYTHON:-python3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install --quiet --find-links "$wheelhouse" vc6-kernels
cd "$scratch"
got="$("$scratch/venv/bin/python" -c \
    'import vc6_kernels, numpy as np; print(vc6_kernels.summation(np.arange(10, dtype=np.int32)))')"
echo "summation(arange(10)) from the installed wheels: $got"
"$scratch/venv/bin/pip" list --format=freeze | grep -E '^(v3d-drm|vc6-|numpy|numba)' || true
[ "$got" = "45" ] || { echo "expected 45" >&2; exit 1; }
