# Shared by the scripts/setup-*.sh that fetch Debian packages: source it.
# Packages unpacked into a root folder are fetched with `apt-get download`
# into a scratch folder and unpacked with `dpkg -x`: nothing is installed on
# the machine from them. The mirror is the machine's own apt configuration.

# The test cache (LAMBDAPACK_TEST_CACHE, else the user cache folder).
lp_test_cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"

# Debian 12's CPython 3.11 and the libraries it (and awslambdaric) loads.
debian_python311=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 zlib1g libexpat1
      libssl3 libffi8 libgcc-s1 libstdc++6 libbz2-1.0 liblzma5 libcrypt1 libsqlite3-0 libuuid1
      libncursesw6 libtinfo6 libreadline8 libdb5.3 libnsl2 libtirpc3)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

_apt_updated=0
# apt_update runs apt-get update once per script (again after an
# architecture is added).
apt_update() { [ $_apt_updated = 1 ] || { sudo_ apt-get update -qq >&2; _apt_updated=1; }; }

# apt_need CMD PKG installs Debian's PKG when CMD is not on PATH.
apt_need() {
  command -v "$1" >/dev/null 2>&1 && return
  apt_update
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

# debian_key PKG... is a short hash of a package list, to name a root by.
debian_key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

# debian_root ARCH ROOT PKG... unpacks the packages (for Debian's ARCH:
# amd64, arm64) into ROOT, unless ROOT is already complete. The root is
# put together beside it and renamed into place, so a killed run leaves no
# half root behind.
debian_root() {
  local arch=$1 root=$2; shift 2
  [ -f "$root/.complete" ] && return
  if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    sudo_ dpkg --add-architecture "$arch"
    _apt_updated=0
  fi
  apt_update
  mkdir -p "$(dirname "$root")"
  local tmp
  tmp=$(mktemp -d "$root.tmp.XXXXXX")
  mkdir -p "$tmp/debs" "$tmp/root"
  ( cd "$tmp/debs" && for p in "$@"; do apt-get download -qq "$p:$arch" >&2; done )
  for f in "$tmp"/debs/*.deb; do dpkg -x "$f" "$tmp/root"; done
  touch "$tmp/root/.complete"
  rm -rf "$root"
  mv "$tmp/root" "$root"
  rm -rf "$tmp"
}
