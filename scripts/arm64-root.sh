#!/usr/bin/env bash
# Makes an aarch64 Debian bookworm root with Python 3.11 and Node.js 18 for qemu-user, so the
# install test can run the aarch64 wheel and addon (Debian has no cross Python or Node). The
# packages come from deb.debian.org through apt with its own state directory: the machine's
# dpkg architectures and package lists stay as they are. Prints the root's path.
#   scripts/arm64-root.sh [DIR]   (default ~/.cache/leaksense/arm64-root; reused when complete)
# Run a program in it: qemu-aarch64-static -L DIR DIR/usr/bin/python3.11 ...
set -euo pipefail
dir="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/leaksense/arm64-root}"
root="$dir/root"
if [ -f "$dir/complete" ]; then
  echo "$root"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"/{lists/partial,cache/archives/partial,debs} "$root"
cat >"$dir/sources.list" <<'EOF'
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root
  -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o Dir::State::status=/dev/null
  -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent)
apt-get "${apt_opts[@]}" -qq update >&2
# What python3.11-minimal, libpython3.11-stdlib and nodejs (libnode108) depend on, plus glibc,
# and Debian's pip wheel (its python lacks ensurepip). Debian's node loads some of its builtins
# from node-acorn, node-cjs-module-lexer and node-undici.
packages=(libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libffi8 libssl3
  python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3-pip-whl
  nodejs libnode108 libuv1 libc-ares2 libicu72 libbrotli1 libnghttp2-14
  node-acorn node-cjs-module-lexer node-undici)
(cd "$dir/debs" && apt-get "${apt_opts[@]}" -qq download "${packages[@]}")
[ "$(ls "$dir/debs" | wc -l)" -eq ${#packages[@]} ] || { echo "arm64-root.sh: not every package downloaded" >&2; exit 1; }
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
rm -rf "$dir/debs" "$dir/cache" "$dir/lists"
# The program interpreter is /lib/ld-linux-aarch64.so.1; bookworm's libc6 puts it in /usr/lib.
[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
qemu-aarch64-static -L "$root" "$root/usr/bin/python3.11" -c 'import platform, ssl; assert platform.machine() == "aarch64"' >&2
qemu-aarch64-static -L "$root" "$root/usr/bin/node" -e 'if (process.arch !== "arm64") process.exit(1)' >&2
touch "$dir/complete"
echo "$root"
