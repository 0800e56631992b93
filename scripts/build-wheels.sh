#!/usr/bin/env bash
# Build the wheels of the four packages into one folder (a wheelhouse).
#
#   bash scripts/build-wheels.sh [WHEELHOUSE]        # default: dist/wheelhouse
#
# Then, on any machine with that folder: pip install --find-links WHEELHOUSE vc6-kernels
# (or vc6-bench, 'vc6-isa[fast]', v3d-drm); pip takes numpy and numba from the package index.
# Each wheel is the package's standard PEP 517 build, the same as `python -m build --wheel`
# run in packages/<name>; `pip wheel` does it with nothing installed beyond pip.
set -euo pipefail
cd "$(dirname "$0")/.."
wheelhouse="${1:-dist/wheelhouse}"
python="${PYTHON:-python3}"
mkdir -p "$wheelhouse"
rm -f "$wheelhouse"/v3d_drm-*.whl "$wheelhouse"/vc6_*.whl
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$wheelhouse" \
    packages/v3d-drm packages/vc6-isa packages/vc6-kernels packages/vc6-bench
ls "$wheelhouse"
