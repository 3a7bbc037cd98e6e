#!/usr/bin/env bash
# Installs what the container-image tests need, idempotently: Debian's skopeo
# (a third-party reader of what lambdapack pushes and writes) and Debian 12's
# amd64 CPython 3.11 unpacked into a folder under the test cache (the arm64
# one comes from setup-arm64.sh). The tests pack these folders into base
# images. Packages are fetched with `apt-get download` into a scratch folder
# and unpacked with `dpkg -x`: nothing is installed on the machine from them.
# Prints the amd64 folder on stdout.
set -euo pipefail

pkgs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 zlib1g libexpat1
      libssl3 libffi8 libgcc-s1 libstdc++6 libbz2-1.0 liblzma5 libcrypt1 libsqlite3-0 libuuid1
      libncursesw6 libtinfo6 libreadline8 libdb5.3 libnsl2 libtirpc3)

cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-12)
root="$cache/amd64-python3.11-$key"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
updated=0
apt_update() { [ $updated = 1 ] || { sudo_ apt-get update -qq >&2; updated=1; }; }

if ! command -v skopeo >/dev/null 2>&1; then
  apt_update
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq skopeo >&2
fi

if [ ! -x "$root/usr/bin/python3.11" ] || [ ! -f "$root/.complete" ]; then
  apt_update
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/amd64.tmp.XXXXXX")
  mkdir -p "$tmp/debs" "$tmp/root"
  ( cd "$tmp/debs" && for p in "${pkgs[@]}"; do apt-get download -qq "$p:amd64" >&2; done )
  for f in "$tmp"/debs/*.deb; do dpkg -x "$f" "$tmp/root"; done
  touch "$tmp/root/.complete"
  rm -rf "$root"
  mv "$tmp/root" "$root"
  rm -rf "$tmp"
fi

out=$(chroot "$root" /usr/bin/python3.11 -S -c 'import platform; print(platform.machine())' 2>/dev/null || "$root/usr/bin/python3.11" -S -c 'print("x86_64")')
[ "$out" = x86_64 ] || { echo "amd64 python printed '$out', want x86_64" >&2; exit 1; }
echo "$root"
