#!/usr/bin/env bash
# Benchmark (not a test): `upcast serve` against nginx serving the same files on loopback, with wrk,
# 64 connections. Scenarios: a media playlist, 1 MB segments, 50 kB ranged reads. Prints requests/s,
# p50 and p99 latency, errors, and upcast/nginx ratios.
#
#   tests/bench/origin/origin_bench.sh [DURATION_SECONDS]     (needs: wrk, nginx, ffmpeg; Debian packages)
#   ONLY=segment UPCAST_ARGS="--cache-max-object-kib 512" tests/bench/origin/origin_bench.sh 5
#
# Both servers run with 2 workers; wrk runs with 2 threads on the same 2 cores, so the figures are for
# the pair on this machine, not for the server alone.
set -euo pipefail
DUR=${1:-10}
CONNS=64
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d /tmp/upcast-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as www-data
UP_PORT=18080
NG_PORT=18081
cleanup() {
	[[ -n "${up_pid:-}" ]] && kill "$up_pid" 2>/dev/null || true
	[[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for t in wrk nginx ffmpeg; do command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "missing $t (apt-get install wrk nginx-light ffmpeg)"; exit 1; }; done

echo "== building upcast (release)"
(cd "$root" && cargo build --release -q -p upcast)
upcast=$root/target/release/upcast

echo "== making a package with ~1 MB segments (720p noise, 8 Mb/s, 1 s segments)"
pkg=$work/pkg
mkdir -p "$pkg/video"
ffmpeg -hide_banner -loglevel error -f lavfi -i "nullsrc=s=640x360:r=25:d=6,geq=random(1)*255:128:128" \
	-c:v libx264 -preset ultrafast -g 25 -keyint_min 25 -sc_threshold 0 -b:v 8M -maxrate 8M -bufsize 2M \
	-pix_fmt yuv420p -f hls -hls_time 1 -hls_playlist_type vod -hls_segment_type fmp4 \
	-hls_fmp4_init_filename init.mp4 -hls_segment_filename "$pkg/video/seg_%05d.m4s" "$pkg/video/playlist.m3u8"
printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=8000000,CODECS="avc1.42c01e",RESOLUTION=640x360\nvideo/playlist.m3u8\n' >"$pkg/master.m3u8"
seg=$(ls "$pkg"/video/seg_*.m4s | sed -n 2p)
seg_name=$(basename "$seg")
echo "   segment $seg_name: $(stat -c %s "$seg") bytes"

echo "== starting upcast serve on 127.0.0.1:$UP_PORT"
UPCAST_ADMIN_TOKEN=bench-admin "$upcast" serve --listen 127.0.0.1:$UP_PORT --data "$work/data" --www /nonexistent \
	--workers 2 ${UPCAST_ARGS:-} 2>"$work/upcast.log" &
up_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/api/videos" && break; sleep 0.1; done
url=$("$upcast" upload "$pkg" --to "http://127.0.0.1:$UP_PORT" --token bench-admin 2>/dev/null | tail -1)
vid=$(echo "$url" | sed -E 's#.*/v/([a-z0-9]+)/.*#\1#')
echo "   video $vid"

echo "== starting nginx on 127.0.0.1:$NG_PORT with the same files"
mkdir -p "$work/www/v/$vid"
cp -r "$pkg"/master.m3u8 "$pkg"/video "$work/www/v/$vid/"
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon on;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000;
    open_file_cache max=1000 inactive=60s;
    types { application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; video/mp4 mp4; }
    client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
    uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $work/www;
        location ~ \.m4s$ { add_header Cache-Control "public, max-age=31536000, immutable"; add_header Access-Control-Allow-Origin *; }
        location ~ \.m3u8$ { add_header Cache-Control "public, max-age=10"; add_header Access-Control-Allow-Origin *; }
    }
}
NGINX
mkdir -p "$work/nginx-tmp"
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3

# Check both serve identical bytes before measuring.
for p in video/playlist.m3u8 "video/$seg_name"; do
	a=$(curl -s "http://127.0.0.1:$UP_PORT/v/$vid/$p" | sha256sum)
	b=$(curl -s "http://127.0.0.1:$NG_PORT/v/$vid/$p" | sha256sum)
	[[ "$a" == "$b" ]] || { echo "upcast and nginx differ on $p"; exit 1; }
done

# wrk's latency figures in ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
run() { # name url [header]
	local out
	if [[ -n "${3:-}" ]]; then
		out=$(wrk -t2 -c$CONNS -d"${DUR}s" --latency -H "$3" "$2")
	else
		out=$(wrk -t2 -c$CONNS -d"${DUR}s" --latency "$2")
	fi
	local rps p50 p99 errs non2xx
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
	p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
	errs=$(echo "$out" | awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10; f=1} END {if (!f) print 0}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5; f=1} END {if (!f) print 0}')
	echo "$1 $rps $p50 $p99 $errs $non2xx"
}

declare -A R
scenarios=("playlist video/playlist.m3u8 -" "segment_1MB video/$seg_name -" "range_50kB video/$seg_name Range:bytes=100000-151199")
printf '\n%-12s %-7s %12s %9s %9s %7s %7s\n' scenario server req/s p50_ms p99_ms errors non2xx
for s in "${scenarios[@]}"; do
	read -r name path hdr <<<"$s"
	[[ -n "${ONLY:-}" && "$name" != *"$ONLY"* ]] && continue
	[[ "$hdr" == "-" ]] && hdr=""
	hdr=${hdr/:/: }
	for server in upcast nginx; do
		port=$UP_PORT; [[ $server == nginx ]] && port=$NG_PORT
		read -r _ rps p50 p99 errs non2xx < <(run "$name" "http://127.0.0.1:$port/v/$vid/$path" "$hdr")
		R[$name.$server]="$rps $p50 $p99"
		printf '%-12s %-7s %12s %9s %9s %7s %7s\n' "$name" "$server" "$rps" "$p50" "$p99" "$errs" "$non2xx"
	done
done
printf '\n%-12s %14s %14s %14s\n' scenario "req/s up/ng" "p50 up/ng" "p99 up/ng"
for s in "${scenarios[@]}"; do
	read -r name _ <<<"$s"
	[[ -n "${ONLY:-}" && "$name" != *"$ONLY"* ]] && continue
	read -r ur u50 u99 <<<"${R[$name.upcast]}"
	read -r nr n50 n99 <<<"${R[$name.nginx]}"
	awk -v n="$name" -v ur="$ur" -v nr="$nr" -v u50="$u50" -v n50="$n50" -v u99="$u99" -v n99="$n99" \
		'BEGIN {printf "%-12s %14.2f %14.2f %14.2f\n", n, ur/nr, u50/n50, u99/n99}'
done
