#!/usr/bin/env bash
# Run the product (`npm start`): install what running needs (not the test browsers), build the wasm core and the pages' assets, build
# the origin, and start `upcast serve` on its embedded defaults (127.0.0.1:8080, ./data, ./www). The URL it
# prints carries the admin token the pages use to create videos; the token is kept in ./data/admin-token.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

tests/setup.sh run
www/build.sh
cargo build --quiet --release -p upcast

mkdir -p data
if [[ ! -s data/admin-token ]]; then
	(umask 077 && printf 'upa_%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >data/admin-token)
fi
UPCAST_ADMIN_TOKEN=$(<data/admin-token)
export UPCAST_ADMIN_TOKEN
echo "upcast: open http://127.0.0.1:8080/#token=$UPCAST_ADMIN_TOKEN"
echo "upcast: upload page /, viewer /watch.html, live streams /live.html (RTMP on rtmp://127.0.0.1:1935/live); stop with Ctrl-C"
exec target/release/upcast serve
