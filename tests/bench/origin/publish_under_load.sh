#!/usr/bin/env bash
# Benchmark (not a test): how long unrelated API calls wait while ticket holders loop publishes that fail
# the conformance check of a large package. Issue 11 measured, when the check ran under the metadata lock,
# a median of 1.7 s and up to 2.7 s for a 1.5 GB package, growing with its size. Prints the latency of
# `GET /api/videos/{id}` during the loop and how many publishes ran a check (422) or were turned away by
# the publish gate (429).
#
#   tests/bench/origin/publish_under_load.sh [SECONDS] [PACKAGE_SECONDS]      (needs ffmpeg, curl, python3)
set -euo pipefail
DUR=${1:-20}
LEN=${2:-120}
PORT=18090
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d /tmp/upcast-publish-bench.XXXXXX)
cleanup() {
	[[ -n "${up_pid:-}" ]] && kill "$up_pid" 2>/dev/null || true
	jobs -p | xargs -r kill 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building upcast (release)"
(cd "$root" && cargo build --release -q -p upcast)
upcast=$root/target/release/upcast

echo "== making a ${LEN} s 1080p package at ~20 Mb/s"
ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=s=1920x1080:r=30:d=$LEN" -c:v libx264 \
	-preset ultrafast -b:v 20M -g 60 -pix_fmt yuv420p "$work/src.mp4"
"$upcast" segment "$work/src.mp4" "$work/pkg" >/dev/null
# A BANDWIDTH three times too high: the check reads every segment before it can say so (rule 1.26).
sed -i -E 's/BANDWIDTH=([0-9]+)/BANDWIDTH=\1000/' "$work/pkg/master.m3u8"
echo "   package: $(du -sh "$work/pkg" | cut -f1), $(find "$work/pkg" -name '*.m4s' | wc -l) segments"

echo "== starting upcast serve on 127.0.0.1:$PORT"
UPCAST_ADMIN_TOKEN=bench-admin "$upcast" serve --listen 127.0.0.1:$PORT --data "$work/data" \
	--www /nonexistent --workers 2 2>"$work/upcast.log" &
up_pid=$!
base=http://127.0.0.1:$PORT
until curl -s -o /dev/null "$base/api/videos"; do sleep 0.1; done

tickets=()
ids=()
for i in 1 2 3; do
	cp -r "$work/pkg" "$work/pkg$i"
	"$upcast" upload "$work/pkg$i" --to "$base" --token bench-admin >/dev/null 2>&1 || true
	state=$(cat "$work/pkg$i/.upcast-upload.json")
	ids+=("$(python3 -c 'import json,sys; print(json.load(sys.stdin)["video_id"])' <<<"$state")")
	tickets+=("$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ticket"])' <<<"$state")")
done
other=${ids[0]}

echo "== ${DUR} s: 3 ticket holders loop publish; one client measures GET /api/videos/$other"
end=$((SECONDS + DUR))
for i in 0 1 2; do
	(
		while ((SECONDS < end)); do
			curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer ${tickets[$i]}" \
				"$base/api/videos/${ids[$i]}/publish"
		done >"$work/publish$i.txt"
	) &
done
while ((SECONDS < end)); do
	curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer bench-admin" "$base/api/videos/$other"
done >"$work/latency.txt"
wait $(jobs -p | grep -v "^$up_pid$") 2>/dev/null || true

python3 - "$work" <<'EOF'
import sys, statistics, pathlib
w = pathlib.Path(sys.argv[1])
lat = sorted(float(x) * 1000 for x in (w / "latency.txt").read_text().split())
codes = [c for i in range(3) for c in (w / f"publish{i}.txt").read_text().split()]
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"  GET /api/videos/{{id}} during failing publishes: {len(lat)} calls, "
      f"median {statistics.median(lat):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms")
print(f"  publishes: {codes.count('422')} checks ran and failed (422), {codes.count('429')} turned away "
      f"by the publish gate (429), {len(codes) - codes.count('422') - codes.count('429')} other")
print(f"  before (issue 11, 1.5 GB package): median 1700 ms, max 2700 ms; "
      f"goal: unrelated calls do not wait for a check (max {lat[-1]:.0f} ms {'<' if lat[-1] < 100 else '>='} 100 ms)")
EOF
