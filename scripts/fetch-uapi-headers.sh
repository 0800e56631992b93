#!/bin/sh
# Fetch the Linux DRM uAPI headers (drm.h, v3d_drm.h, ...) that v3d-drm's ABI test compiles.
#
# Debian ships them, as raw kernel headers, in linux-headers-<version>-common. This script
# downloads that package with `apt-get download` and unpacks it with `dpkg -x` (no install,
# no root needed beyond what apt-get download needs), keeps only include/uapi/drm/ and prints
# that directory. Point the test at it with V3D_UAPI_INCLUDE=<printed dir>, or leave it at the
# default location (<repo>/.cache/uapi/drm), where the test looks by itself.
#
# Usage: scripts/fetch-uapi-headers.sh [PACKAGE]
#   PACKAGE defaults to $V3D_UAPI_PACKAGE, else the newest linux-headers-6.12.*-common that apt
#   knows (the 6.12 headers carry every V3D ioctl up to PERFMON_GET_COUNTER).
# Env: V3D_UAPI_CACHE  cache directory (default: <repo>/.cache/uapi)
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${V3D_UAPI_CACHE:-$repo/.cache/uapi}
dest=$cache/drm

if [ -f "$dest/v3d_drm.h" ] && [ -f "$dest/drm.h" ] && [ $# -eq 0 ]; then
    echo "$dest"
    exit 0
fi

pkg=${1:-${V3D_UAPI_PACKAGE:-}}
if [ -z "$pkg" ]; then
    pkg=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null | grep -E '^linux-headers-6\.12\.[0-9]+\+deb[0-9]+-common$' \
          | sort -V | tail -n 1 || true)
fi
if [ -z "$pkg" ]; then
    echo "fetch-uapi-headers: no linux-headers-6.12.*-common package known to apt;" \
         "run 'apt-get update' or pass a package name" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "$pkg" >&2)
dpkg -x "$work"/*.deb "$work/root"
src=$(find "$work/root" -type f -path '*/include/uapi/drm/v3d_drm.h' | head -n 1)
if [ -z "$src" ]; then
    echo "fetch-uapi-headers: $pkg has no include/uapi/drm/v3d_drm.h" >&2
    exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
cp "$(dirname "$src")"/*.h "$dest/"
echo "$pkg" > "$dest/SOURCE"
echo "$dest"
