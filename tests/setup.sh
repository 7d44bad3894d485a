#!/usr/bin/env bash
# Install the outside tools the tests need. Idempotent and silent when everything is already there;
# `apt-get update` runs at most once, and only when something is missing. One function per tool.
#
#   tests/setup.sh
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

setup_ffmpeg
setup_python3
