#!/usr/bin/env python3
"""Fails when any package's version disagrees with the one version of the project.

The version lives in one place, [workspace.package] version in the root Cargo.toml. Everything
else must carry the same: every crate, the Python package (dynamic, read by maturin), every
package.json (the main Node package, each per-platform one, and the version checks napi-rs
writes into index.js), the Go module version the examples require, CHANGELOG.md's top entry and
the versioned file names in docs/install.md. With --dist DIR it also checks the built artifacts:
wheel and sdist metadata, every npm tarball's package.json, the Go proxy's list/.info/.mod/.zip,
and what the CLI binary prints.

Usage: check-versions.py            check the sources
       check-versions.py --dist DIR also check the artifacts in DIR (what scripts/dist.sh wrote)
       check-versions.py --print    print the version
Needs Python 3.11+ (tomllib) and nothing else.
"""

import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GO_MODULE = "github.com/leaksense/leaksense/bindings-go"
# napi target triple -> npm platform directory (bindings-node/npm/<dir>, package leaksense-<dir>).
NAPI_PLATFORMS = {
    "x86_64-unknown-linux-gnu": "linux-x64-gnu",
    "aarch64-unknown-linux-gnu": "linux-arm64-gnu",
    "x86_64-unknown-linux-musl": "linux-x64-musl",
    "wasm32-wasip1-threads": "wasm32-wasi",
}
CLI_HOST_TARGET = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def workspace():
    cargo = tomllib.loads(read("Cargo.toml"))
    pkg = cargo["workspace"]["package"]
    return cargo, pkg["version"], pkg["rust-version"]


class Checker:
    def __init__(self, version):
        self.version = version
        self.errors = []
        self.checked = 0

    def expect(self, what, got, want=None):
        want = self.version if want is None else want
        self.checked += 1
        if got != want:
            self.errors.append(f"{what}: {got!r}, expected {want!r}")


def check_sources(c, cargo, rust_version):
    for member in cargo["workspace"]["members"]:
        pkg = tomllib.loads(read(f"{member}/Cargo.toml"))["package"]
        for key, want in (("version", c.version), ("rust-version", rust_version)):
            value = pkg.get(key)
            if value != {"workspace": True}:
                c.expect(f"{member}/Cargo.toml package.{key}", value, want)
            else:
                c.checked += 1

    project = tomllib.loads(read("bindings-python/pyproject.toml"))["project"]
    c.expect("bindings-python/pyproject.toml: version comes from Cargo (dynamic)",
             "version" in project.get("dynamic", []) and "version" not in project, True)
    backend = re.search(r'RUST_VERSION = "([^"]+)"', read("bindings-python/build_backend/leaksense_build.py"))
    c.expect("bindings-python/build_backend RUST_VERSION", backend and backend.group(1), rust_version)

    main = json.loads(read("bindings-node/package.json"))
    c.expect("bindings-node/package.json version", main["version"])
    targets = main["napi"]["targets"]
    unknown = [t for t in targets if t not in NAPI_PLATFORMS]
    c.expect("bindings-node napi.targets without a known npm directory", unknown, [])
    npm_dirs = sorted(os.listdir(os.path.join(ROOT, "bindings-node/npm")))
    c.expect("bindings-node/npm directories", npm_dirs, sorted(NAPI_PLATFORMS[t] for t in targets if t in NAPI_PLATFORMS))
    for d in npm_dirs:
        pkg = json.loads(read(f"bindings-node/npm/{d}/package.json"))
        c.expect(f"bindings-node/npm/{d}/package.json name", pkg["name"], f"leaksense-{d}")
        c.expect(f"bindings-node/npm/{d}/package.json version", pkg["version"])
    # napi-rs writes the version into the loader's optional version checks.
    embedded = re.findall(r"bindingPackageVersion !== '([^']*)'", read("bindings-node/index.js"))
    c.expect("bindings-node/index.js has version checks", bool(embedded), True)
    for v in sorted(set(embedded)):
        c.expect("bindings-node/index.js embedded version (re-run napi build)", v)

    gomod = re.search(rf"^\s*(?:require\s+)?{re.escape(GO_MODULE)} (\S+)", read("examples/go-leak/go.mod"), re.M)
    c.expect("examples/go-leak/go.mod requires the Go module at", gomod and gomod.group(1), "v" + c.version)

    top = re.search(r"^## \[([^\]]+)\]", read("CHANGELOG.md"), re.M)
    c.expect("CHANGELOG.md top entry", top and top.group(1))

    doc = read("docs/install.md")
    semver = r"\d+\.\d+\.\d+(?:-(?:rc|alpha|beta|dev)[.\d]*)?"
    named = re.findall(rf"(?:leaksense(?:-[a-z0-9_]+)*-|bindings-go@v|leaksense==)({semver})", doc)
    c.expect("docs/install.md names versioned artifacts", bool(named), True)
    for v in sorted(set(named)):
        c.expect("docs/install.md versioned name", v)


def check_dist(c, dist):
    """Checks the parts present in dist (a --host or single-part build makes only some)."""
    v = c.version
    present = [p for p in ("python", "npm", "go", "cli") if os.path.isdir(os.path.join(dist, p))]
    c.expect("dist has artifacts", bool(present), True)
    if "python" in present:
        check_python(c, dist)
    if "npm" in present:
        tarballs = glob.glob(os.path.join(dist, "npm", "*.tgz"))
        c.expect("dist/npm has tarballs", bool(tarballs), True)
        for path in tarballs:
            with tarfile.open(path) as t:
                pkg = json.load(t.extractfile("package/package.json"))
            name = os.path.basename(path)
            c.expect(f"{name}: package.json version", pkg["version"])
            c.expect(f"{name}: file name", name, f"{pkg['name']}-{pkg['version']}.tgz")
            for dep, spec in pkg.get("optionalDependencies", {}).items():
                c.expect(f"{name}: optionalDependencies {dep}", spec)
    if "go" in present:
        vdir = os.path.join(dist, "go", "proxy", GO_MODULE, "@v")
        c.expect("dist/go proxy list", open(os.path.join(vdir, "list")).read().split(), ["v" + v])
        with open(os.path.join(vdir, f"v{v}.info")) as f:
            c.expect("dist/go proxy .info Version", json.load(f)["Version"], "v" + v)
        with open(os.path.join(vdir, f"v{v}.mod")) as f:
            c.expect("dist/go proxy .mod is the module's go.mod", f.read(), read("bindings-go/go.mod"))
        with zipfile.ZipFile(os.path.join(vdir, f"v{v}.zip")) as z:
            prefix = f"{GO_MODULE}@v{v}/"
            outside = [n for n in z.namelist() if not n.startswith(prefix)]
            c.expect("dist/go proxy .zip entries outside " + prefix, outside, [])
    if "cli" in present:
        check_cli(c, dist)


def check_python(c, dist):
    wheels = glob.glob(os.path.join(dist, "python", "*.whl"))
    c.expect("dist/python has wheels", bool(wheels), True)
    for path in wheels:
        name = os.path.basename(path)
        c.expect(f"{name}: file name version", name.split("-")[1])
        with zipfile.ZipFile(path) as z:
            meta = z.read(f"leaksense-{name.split('-')[1]}.dist-info/METADATA").decode()
        c.expect(f"{name}: METADATA Version", re.search(r"^Version: (.+)$", meta, re.M).group(1))
    for path in glob.glob(os.path.join(dist, "python", "*.tar.gz")):
        with tarfile.open(path) as t:
            info = next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
            meta = t.extractfile(info).read().decode()
        c.expect(f"{os.path.basename(path)}: PKG-INFO Version", re.search(r"^Version: (.+)$", meta, re.M).group(1))


def check_cli(c, dist):
    v = c.version
    clis = glob.glob(os.path.join(dist, "cli", "*.tar.gz"))
    c.expect("dist/cli has binaries", bool(clis), True)
    for path in clis:
        name = os.path.basename(path)
        c.expect(f"{name}: file name version", name.split("-")[1])
        host = CLI_HOST_TARGET.get(platform.machine())
        if host and name == f"leaksense-{v}-{host}.tar.gz":
            with tarfile.open(path) as t:
                binary = t.extractfile(f"leaksense-{v}-{host}/leaksense").read()
            c.expect(f"{name}: leaksense --version", run_binary(binary), f"leaksense {v}")


def run_binary(data):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "leaksense")
        with open(exe, "wb") as f:
            f.write(data)
        os.chmod(exe, 0o755)
        return subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dist", help="also check the artifacts in this directory")
    ap.add_argument("--print", action="store_true", help="print the version and exit")
    args = ap.parse_args()
    cargo, version, rust_version = workspace()
    if args.print:
        print(version)
        return 0
    c = Checker(version)
    check_sources(c, cargo, rust_version)
    if args.dist:
        check_dist(c, args.dist)
    if c.errors:
        print(f"versions disagree with Cargo.toml's {version}:", file=sys.stderr)
        for e in c.errors:
            print("  " + e, file=sys.stderr)
        return 1
    print(f"versions agree: {version} ({c.checked} checks{', artifacts included' if args.dist else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
