#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to see. This is the README's test command
# (`npm test`) and exactly what CI runs (.ci/run). It installs what it needs first (tests/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "setup"
tests/setup.sh

step "JavaScript: format and lint (Biome), types (tsc --noEmit: the library, its Workers, the pages)"
npx --no-install biome check .
npx --no-install tsc -p www
npx --no-install tsc -p www/workers
npx --no-install tsc -p www/pages

step "format"
cargo fmt --all -- --check

step "clippy (native, and the core on wasm32)"
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p upcast-core --target wasm32-unknown-unknown --all-targets --features browser-tests -- -D warnings

step "cargo test (native: unit, malformed inputs, limits, round trips, outside checks with ffmpeg)"
cargo test --workspace

step "fuzz the origin's upload checks (playlist URIs, CMAF readers) for 60 s each"
tests/fuzz.sh

step "cargo test on wasm32 (the core's integration tests under Node.js)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p upcast-core --target wasm32-unknown-unknown --tests

step "wasm bindings in real browsers (recipes gather to the core's bytes; typed errors; run in a dedicated Worker)"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
GECKODRIVER=${GECKODRIVER:-$(command -v geckodriver)}
export GECKODRIVER
wasm-pack test --headless --chrome wasm --features browser-tests --test web
wasm-pack test --headless --firefox wasm --features browser-tests --test web

step "end to end: the pages in Debian's headless Chromium against a real upcast serve (screenshots in tests/out/)"
www/build.sh
cargo build --quiet -p upcast
npm run --silent e2e
