#!/usr/bin/env bash
# Build what the pages need into www/: the wasm core and its JS glue (www/pkg/) and hls.js from npm
# (www/vendor/). Offline: cargo + the installed wasm-bindgen-cli, no wasm-pack download, no CDN.
#
#   origin/scripts/build.sh            release build
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --quiet -p upcast-core --lib --target wasm32-unknown-unknown --profile wasm
rm -rf www/pkg
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir www/pkg \
	target/wasm32-unknown-unknown/wasm/upcast_core.wasm
if command -v wasm-opt >/dev/null; then
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
		--enable-mutable-globals -o www/pkg/upcast_core_bg.wasm www/pkg/upcast_core_bg.wasm
fi

mkdir -p www/vendor
cp node_modules/hls.js/dist/hls.min.js www/vendor/hls.min.js
