#!/usr/bin/env bash
# Build what the pages and the library need into www/: the wasm core and its JS glue (www/pkg/), hls.js
# and the DASH players (Shaka Player, dash.js, video.js with its VHS) from npm (www/vendor/) and the library's type declarations (www/types/, from the JSDoc of www/lib/).
# Offline: cargo + the installed wasm-bindgen-cli, no wasm-pack download, no CDN.
#
#   www/build.sh            release build
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

# Two builds of the core, named for what they hold: `upcast_segment` is the segmenter alone (what
# `segment()` needs); `upcast_full` adds the HLS conformance checker (feature `check`) and the ladder's
# bindings (feature `ladder`) and the Go live page's (feature `live`), loaded only by jobs that check or encode. (binaryen's wasm-opt -Oz was tried:
# 10 % fewer raw bytes but 2 % more gzipped bytes, so it is not used.)
rm -rf www/pkg
wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm/upcast_core.wasm
for build in "upcast_segment --no-default-features" "upcast_full --features check,ladder,live"; do
	read -r name features <<<"$build"
	cargo build --quiet -p upcast-core --lib --target wasm32-unknown-unknown --profile wasm $features
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir www/pkg --out-name "$name" "$wasm"
done

mkdir -p www/vendor
cp node_modules/hls.js/dist/hls.min.js www/vendor/hls.min.js
# The viewer's DASH players, loaded only when chosen: Shaka's DASH-only build (no HLS, no UI), dash.js's
# player without MSS/offline/protection, video.js with VHS (its CSS carries its icon font inline).
cp node_modules/shaka-player/dist/shaka-player.dash-es2021.js www/vendor/shaka-player.dash.js
cp node_modules/dashjs/dist/modern/umd/dash.mediaplayer.min.js www/vendor/dash.mediaplayer.min.js
cp node_modules/video.js/dist/video.min.js www/vendor/video.min.js
cp node_modules/video.js/dist/video-js.min.css www/vendor/video-js.min.css
