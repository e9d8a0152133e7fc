#!/bin/sh
# E3: builds the Extism plugin (release, wasm32-unknown-unknown), then runs the
# peer benchmark. Arguments go to criterion, e.g. `./run.sh --quick`.
# Needs `rustup target add wasm32-unknown-unknown`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
(cd "$here/plugin" && cargo build --release --target wasm32-unknown-unknown)
cd "$here"
# The workspace's target directory: dataslo and most of its dependencies are
# usually built there already.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../../../target}" cargo bench --bench peer -- "$@"
