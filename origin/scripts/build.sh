#!/usr/bin/env bash
# Build what the pages need into www/: the wasm core and its JS glue (www/pkg/) and hls.js from npm
# (www/vendor/). Offline: cargo + the installed wasm-bindgen-cli, no wasm-pack download, no CDN.
#
#   origin/scripts/build.sh            release build
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

# Two builds of the core: `upcast_core` is the segmenter alone (what `segment()` needs); `upcast_full` adds
# the HLS conformance checker and the ladder muxer, loaded only by pages that check or encode. (binaryen's
# wasm-opt -Oz was tried: 10 % fewer raw bytes but 2 % more gzipped bytes, so it is not used.)
rm -rf www/pkg
wasm=target/wasm32-unknown-unknown/wasm/upcast_core.wasm
for build in "upcast_core --no-default-features" "upcast_full --features check"; do
	read -r name features <<<"$build"
	cargo build --quiet -p upcast-core --lib --target wasm32-unknown-unknown --profile wasm $features
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir www/pkg --out-name "$name" "$wasm"
done

mkdir -p www/vendor
cp node_modules/hls.js/dist/hls.min.js www/vendor/hls.min.js
