#!/usr/bin/env bash
# Install the outside tools the tests need. Idempotent and silent when everything is already there;
# `apt-get update` runs at most once, and only when something is missing. One function per tool.
#
#   tests/setup.sh [run|test]     run: what npm start needs; test (default): what npm test needs
set -euo pipefail

# Run as root directly, otherwise through sudo.
as_root() {
	if ((EUID == 0)); then
		"$@"
	else
		sudo "$@"
	fi
}

apt_updated=false
apt_install() {
	if ! $apt_updated; then
		as_root apt-get update -qq
		apt_updated=true
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ffmpeg and ffprobe (Debian's build: libx264, libx265, libaom, libvpx, libopus, libmp3lame).
setup_ffmpeg() {
	if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
		return
	fi
	echo "setup: installing ffmpeg" >&2
	apt_install ffmpeg
}

# python3 (tests/fixtures/stco_to_co64.py; standard library only).
setup_python3() {
	if command -v python3 >/dev/null; then
		return
	fi
	echo "setup: installing python3" >&2
	apt_install python3
}


# The browser side: Debian's Chromium + ChromeDriver and Firefox ESR (the tests never download a browser),
# geckodriver and wasm-pack (for `wasm-pack test --headless --chrome/--firefox`), and the npm packages
# (hls.js, shaka-player, dashjs, video.js, playwright-core, mediabunny, typescript, biome, esbuild) from the
# committed package-lock.json.
setup_browsers() {
	local missing=()
	command -v chromium >/dev/null || missing+=(chromium)
	command -v chromedriver >/dev/null || missing+=(chromium-driver)
	command -v firefox-esr >/dev/null || missing+=(firefox-esr)
	if ((${#missing[@]})); then
		echo "setup: installing ${missing[*]}" >&2
		apt_install "${missing[@]}"
	fi
}

# The wasm32 target and wasm-bindgen-cli at exactly the `wasm-bindgen` crate version in Cargo.lock (the CLI
# refuses modules from another version). No `--locked` for it: one of its pinned dependencies is missing
# from the registry mirror, and the unlocked install resolves a compatible one.
setup_wasm() {
	export PATH="$HOME/.cargo/bin:$PATH"
	local root want have
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
		echo "setup: adding the wasm32-unknown-unknown target" >&2
		rustup target add wasm32-unknown-unknown >/dev/null 2>&1
	fi
	want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
	have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
	if [[ $have != "$want" ]]; then
		echo "setup: installing wasm-bindgen-cli $want" >&2
		cargo install --quiet --force wasm-bindgen-cli --version "$want"
	fi
}

setup_cargo_tools() {
	export PATH="$HOME/.cargo/bin:$PATH"
	if ! command -v wasm-pack >/dev/null; then
		echo "setup: installing wasm-pack" >&2
		cargo install --quiet --locked wasm-pack
	fi
	if ! command -v geckodriver >/dev/null; then
		echo "setup: installing geckodriver" >&2
		cargo install --quiet --locked geckodriver
	fi
	# cargo-fuzz for tests/fuzz.sh (libFuzzer; runs on stable Rust with RUSTC_BOOTSTRAP=1).
	if ! cargo fuzz --version >/dev/null 2>&1; then
		echo "setup: installing cargo-fuzz" >&2
		cargo install --quiet --locked cargo-fuzz
	fi
}

# s3s-fs, a real S3-compatible server (the origin's object-store tests start one on loopback; see
# origin/testkit/s3.rs). 0.14.1: the last release that builds with the workspace's Rust (0.17 needs a newer
# one); its `binary` feature is the server program.
S3S_FS_VERSION=0.14.1
setup_s3s_fs() {
	export PATH="$HOME/.cargo/bin:$PATH"
	if [[ $(s3s-fs --version 2>/dev/null) == "s3s-fs $S3S_FS_VERSION" ]]; then
		return
	fi
	echo "setup: installing s3s-fs $S3S_FS_VERSION" >&2
	cargo install --quiet --locked --force s3s-fs --version "$S3S_FS_VERSION" --features binary
}

# Debian's nginx: the proxy_cache CDN in origin/cli/tests/objstore_cdn.rs (each test writes its own config).
setup_nginx() {
	if command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]]; then
		return
	fi
	echo "setup: installing nginx" >&2
	apt_install nginx-light
}

# npm ci when node_modules is missing, older than the lock file, or (for the tests) without the dev
# packages a run-only install left out. `run`: only what the pages need (the players: hls.js, Shaka Player,
# dash.js, video.js), `--omit=dev`.
setup_npm() {
	local root want=$1
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [[ ! -f $root/node_modules/.package-lock.json || $root/package-lock.json -nt $root/node_modules/.package-lock.json ||
		($want == test && ! -d $root/node_modules/playwright-core) ]]; then
		if [[ $want == run ]]; then
			echo "setup: npm ci --omit=dev" >&2
			(cd "$root" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
		else
			echo "setup: npm ci" >&2
			(cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
		fi
	fi
}

# `tests/setup.sh run` (what `npm start` calls): only what running the product needs, the wasm toolchain
# and the viewer's players, so a newcomer sees the page without waiting for browsers, drivers and test tools.
# `tests/setup.sh` (what `npm test` calls): everything the tests need.
case ${1:-test} in
run)
	setup_wasm
	setup_npm run
	;;
test)
	setup_ffmpeg
	setup_python3
	setup_wasm
	setup_browsers
	setup_cargo_tools
	setup_s3s_fs
	setup_nginx
	setup_npm test
	;;
*)
	echo "usage: tests/setup.sh [run|test]" >&2
	exit 2
	;;
esac
