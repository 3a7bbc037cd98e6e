#!/usr/bin/env bash
# Installs what the arm64 end-to-end tests need, idempotently: qemu-user-static
# and Debian 12's arm64 CPython 3.11 unpacked into a folder under the cache
# directory (run under qemu by the arm64 tests). Prints the folder on stdout.
set -euo pipefail

pkgs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 zlib1g libexpat1
      libssl3 libffi8 libgcc-s1 libstdc++6 libbz2-1.0 liblzma5 libcrypt1 libsqlite3-0 libuuid1
      libncursesw6 libtinfo6 libreadline8 libdb5.3 libnsl2 libtirpc3)

cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-12)
root="$cache/arm64-python3.11-$key"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
updated=0
apt_update() { [ $updated = 1 ] || { sudo_ apt-get update -qq >&2; updated=1; }; }

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  apt_update
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >&2
fi

if [ ! -x "$root/usr/bin/python3.11" ] || [ ! -f "$root/.complete" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    sudo_ dpkg --add-architecture arm64
    updated=0
  fi
  apt_update
  tmp=$(mktemp -d "$cache.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache.tmp.XXXXXX"; })
  mkdir -p "$tmp/debs" "$tmp/root"
  ( cd "$tmp/debs" && for p in "${pkgs[@]}"; do apt-get download -qq "$p:arm64" >&2; done )
  for f in "$tmp"/debs/*.deb; do dpkg -x "$f" "$tmp/root"; done
  touch "$tmp/root/.complete"
  mkdir -p "$cache"
  rm -rf "$root"
  mv "$tmp/root" "$root"
  rm -rf "$tmp"
fi

out=$(qemu-aarch64-static -L "$root" "$root/usr/bin/python3.11" -S -c 'import platform; print(platform.machine())')
[ "$out" = aarch64 ] || { echo "arm64 python under qemu printed '$out', want aarch64" >&2; exit 1; }
echo "$root"
