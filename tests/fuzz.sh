#!/usr/bin/env bash
# A short fuzz run of the origin's upload checks, part of `npm test` (tests/run_all.sh, after cargo test):
# the playlist check (`check_playlist`: the URI extractor, the package resolver and the m3u8-rs parse, held
# to a model of what hls.js would fetch), the CMAF readers (`read_cmaf`: read_init and read_segment) and the
# live ingest's tag reader and muxer (`flv_tag`: FLV / Enhanced RTMP bodies from a publisher), each for
# UPCAST_FUZZ_SECONDS (60 by default). The corpus and libFuzzer's output go to a scratch directory
# (UPCAST_FUZZ_DIR, target/fuzz-run by default), never into the tree. A crash fails the step; commit the
# input under wasm/tests/fuzz_regressions/<target>/ (wasm/fuzz/README.md) so `cargo test` replays it.
#
#   tests/fuzz.sh [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
# cargo fuzz passes -Z flags to rustc; the toolchain is stable (wasm/fuzz/README.md).
export RUSTC_BOOTSTRAP=1
secs=${UPCAST_FUZZ_SECONDS:-60}
work=${UPCAST_FUZZ_DIR:-${CARGO_TARGET_DIR:-$root/target}/fuzz-run}
targets=("$@")
((${#targets[@]})) || targets=(check_playlist read_cmaf flv_tag read_fmp4 read_webm)

mkdir -p "$work"
# The seed corpus (fixture packages' segments and playlists) once; a corpus kept from an earlier run
# carries on from where that run stopped. Every committed regression input is added each time.
if [[ ! -d $work/corpus/read_cmaf ]]; then
	UPCAST_FUZZ_CORPUS="$work/corpus" cargo test --quiet -p upcast-core --test fuzz_regressions -- \
		--ignored write_seed_corpus >"$work/seed.log" 2>&1 || {
		cat "$work/seed.log" >&2
		exit 1
	}
fi

for t in "${targets[@]}"; do
	corpus="$work/corpus/$t"
	artifacts="$work/artifacts/$t/"
	mkdir -p "$corpus" "$artifacts"
	cp "$root/wasm/tests/fuzz_regressions/$t"/* "$corpus/"
	opts=(-max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10
		-artifact_prefix="$artifacts" -print_final_stats=1)
	[[ -f $root/wasm/fuzz/$t.dict ]] && opts+=(-dict="$root/wasm/fuzz/$t.dict")
	log="$work/$t.log"
	start=$SECONDS
	if ! (cd "$work" && cargo fuzz run --fuzz-dir "$root/wasm/fuzz" "$t" "$corpus" -- "${opts[@]}") \
		>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "fuzz: $t failed; its input is in $artifacts (commit it under wasm/tests/fuzz_regressions/$t/)" >&2
		exit 1
	fi
	runs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log")
	rate=$(awk '/stat::average_exec_per_sec:/ { print $2 }' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
	echo "fuzz: $t: ${runs:-?} runs, ${rate:-?} execs/s, ${cov:-cov: ?}, $((SECONDS - start)) s with the build"
done
