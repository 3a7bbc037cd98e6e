#!/usr/bin/env bash
# Installs what the arm64 end-to-end tests need, idempotently: qemu-user-static
# and Debian 12's arm64 CPython 3.11 unpacked into a folder under the cache
# directory (run under qemu by the arm64 tests). Prints the folder on stdout.
set -euo pipefail
. "$(dirname "$0")/lib/debian.sh"

root="$lp_test_cache/arm64-python3.11-$(debian_key "${debian_python311[@]}")"
apt_need qemu-aarch64-static qemu-user-static
[ -x "$root/usr/bin/python3.11" ] || rm -f "$root/.complete"
debian_root arm64 "$root" "${debian_python311[@]}"

out=$(qemu-aarch64-static -L "$root" "$root/usr/bin/python3.11" -S -c 'import platform; print(platform.machine())')
[ "$out" = aarch64 ] || { echo "arm64 python under qemu printed '$out', want aarch64" >&2; exit 1; }
echo "$root"
