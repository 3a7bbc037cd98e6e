#!/usr/bin/env bash
# Installs what the container-image tests need, idempotently: Debian's skopeo
# (a third-party reader of what lambdapack pushes and writes) and Debian 12's
# amd64 CPython 3.11 unpacked into a folder under the test cache (the arm64
# one comes from setup-arm64.sh). The tests pack these folders into base
# images (see lib/debian.sh for how packages are fetched). Prints the amd64
# folder on stdout.
set -euo pipefail
. "$(dirname "$0")/lib/debian.sh"

root="$lp_test_cache/amd64-python3.11-$(debian_key "${debian_python311[@]}")"
apt_need skopeo skopeo
[ -x "$root/usr/bin/python3.11" ] || rm -f "$root/.complete"
debian_root amd64 "$root" "${debian_python311[@]}"

out=$(chroot "$root" /usr/bin/python3.11 -S -c 'import platform; print(platform.machine())' 2>/dev/null || "$root/usr/bin/python3.11" -S -c 'print("x86_64")')
[ "$out" = x86_64 ] || { echo "amd64 python printed '$out', want x86_64" >&2; exit 1; }
echo "$root"
