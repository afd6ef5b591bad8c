"""PEP 517 backend for building leaksense from source: maturin's, but it never downloads Rust.

When maturin's backend finds no `cargo` on PATH it silently installs a Rust toolchain (about
1 GB, through puccinialin) into a temporary directory. pip only builds from source when no
prebuilt wheel fits the platform, and that user should learn what is needed instead: this
wrapper turns the download off (MATURIN_NO_INSTALL_RUST) and stops at once with the message.
"""

import os
import shutil

os.environ["MATURIN_NO_INSTALL_RUST"] = "1"

import maturin  # noqa: E402  (reads the variable above when its hooks run)

RUST_VERSION = "1.95"  # the workspace's rust-version; scripts/check-versions.py keeps them equal

MESSAGE = f"""
leaksense: no prebuilt wheel fits this platform, and building it from source needs Rust
{RUST_VERSION} or newer with cargo on PATH (https://rustup.rs). Prebuilt abi3 wheels (CPython 3.9+)
exist for Linux x86_64 and aarch64 (glibc 2.17+) and Linux x86_64 musl (musl 1.2+).
This build will not download a Rust toolchain by itself.
"""


def _require_cargo():
    if shutil.which("cargo") is None:
        raise SystemExit(MESSAGE)


def _guarded(hook):
    def run(*args, **kwargs):
        _require_cargo()
        return hook(*args, **kwargs)

    run.__name__ = hook.__name__
    run.__doc__ = hook.__doc__
    return run


get_requires_for_build_wheel = _guarded(maturin.get_requires_for_build_wheel)
get_requires_for_build_editable = _guarded(maturin.get_requires_for_build_editable)
get_requires_for_build_sdist = _guarded(maturin.get_requires_for_build_sdist)
prepare_metadata_for_build_wheel = _guarded(maturin.prepare_metadata_for_build_wheel)
prepare_metadata_for_build_editable = _guarded(maturin.prepare_metadata_for_build_editable)
build_wheel = _guarded(maturin.build_wheel)
build_editable = _guarded(maturin.build_editable)
build_sdist = _guarded(maturin.build_sdist)
