#!/usr/bin/env bash
# Benchmark (not a test): `upcast segment` against `ffmpeg -c copy -f hls` (fMP4, 6 s) on the same input,
# and upcast's memory on an input over 2 GB.
#
#   tests/bench/segment.sh [RUNS]
#
# Prints the median wall time and peak RSS of each tool over RUNS runs (default 5), the ratio, and the peak
# RSS of upcast on the 60 s file and on the >2 GB file (memory must not grow with file size).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
gen=$root/tests/fixtures/generated
out=$root/tests/out/bench
mkdir -p "$gen" "$out"
src60=$gen/bench_60s_1080p.mp4
big=$gen/big_2g.mp4
[ -s "$src60" ] || "$root/tests/fixtures/make_big.sh" "$src60" 60 1920x1080 >/dev/null
[ -s "$big" ] || "$root/tests/fixtures/make_big.sh" "$big" 2200 1920x1080 >/dev/null

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p upcast
upcast=$root/target/release/upcast

# run NAME CMD... → appends "seconds max_rss_kb" lines to $out/NAME.times
run() {
	local name=$1
	shift
	rm -f "$out/$name.times"
	for _ in $(seq "$runs"); do
		rm -rf "$out/$name"
		mkdir -p "$out/$name"
		/usr/bin/time -f "%e %M" -a -o "$out/$name.times" "$@" >/dev/null 2>"$out/$name.log" ||
			{ cat "$out/$name.log" >&2; exit 1; }
	done
}
calc() { awk "BEGIN { print $* }"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run upcast "$upcast" segment "$src60" "$out/upcast" --target-duration 6
run ffmpeg ffmpeg -nostdin -v error -y -i "$src60" -map 0 -c copy -f hls -hls_segment_type fmp4 \
	-hls_time 6 -hls_playlist_type vod -hls_fmp4_init_filename init.mp4 "$out/ffmpeg/playlist.m3u8"

u_s=$(cut -d' ' -f1 "$out/upcast.times" | median)
f_s=$(cut -d' ' -f1 "$out/ffmpeg.times" | median)
u_kb=$(cut -d' ' -f2 "$out/upcast.times" | median)
f_kb=$(cut -d' ' -f2 "$out/ffmpeg.times" | median)
size=$(stat -c %s "$src60")

printf 'input: %s (%.1f MB, 60 s 1080p H.264 + AAC), %s runs each, median\n' "$(basename "$src60")" \
	"$(calc "$size / 1000000")" "$runs"
printf '  upcast segment        %6.3f s   peak RSS %6.1f MB\n' "$u_s" "$(calc "$u_kb / 1024")"
printf '  ffmpeg -c copy -f hls %6.3f s   peak RSS %6.1f MB\n' "$f_s" "$(calc "$f_kb / 1024")"
printf '  ratio ffmpeg/upcast   %6.2fx (goal: >= 5x)\n' "$(calc "$f_s / $u_s")"

runs=1 run upcast_big "$upcast" segment "$big" "$out/upcast_big" --target-duration 6
read -r b_s b_kb <"$out/upcast_big.times"
printf 'input: %s (%.2f GB)\n' "$(basename "$big")" "$(calc "$(stat -c %s "$big") / 1000000000")"
printf '  upcast segment        %6.3f s   peak RSS %6.1f MB (60 s file: %.1f MB)\n' "$b_s" \
	"$(calc "$b_kb / 1024")" "$(calc "$u_kb / 1024")"
rm -rf "$out/upcast" "$out/ffmpeg" "$out/upcast_big"
