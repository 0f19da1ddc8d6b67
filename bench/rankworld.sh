#!/usr/bin/env bash
# bench/rankworld.sh: issue 16 target 1, cached rankings over many needs, offers, callers and
# languages against the same server's /healthz, on synthetic worlds of several sizes.
#
# For each world (OFFERS, default "10 1000 10000" offers, each with NEEDS needs, default 1000)
# it starts cmd/capmatch-rankworld (the API on the synthetic world, in-process Redis, 44 callers, 3,000
# distinct ranking requests warmed once each), then runs wrk -t2 -c32 against /healthz and
# against the requests replayed round-robin (bench/wrk-many.lua), and prints both rates, their
# ratio (target ≥ 0.8) and the load average. NO_ANSWER_CACHE=1 renders every answer for its
# request (the A/B baseline). DURATION sets wrk's duration (default 15s). ENCODING sets the
# rankings' Accept-Encoding (e.g. "gzip, deflate, br" as browsers send; default none: identity).
# CPUPROFILE=dir writes a CPU profile of the server per world (dir/rankworld-<offers>.prof)
# covering both wrk runs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${DURATION:-15s}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capmatch-rankworld.XXXXXX")
pid=""
cleanup() {
	[[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$repo" && go build -o "$tmp/rankworld" ./cmd/capmatch-rankworld)
flags=()
[[ "${NO_ANSWER_CACHE:-}" == 1 ]] && flags+=(-no-answer-cache)
export CAPMATCH_ENCODING=${ENCODING:-}
rps() { sed -n 's/^Requests\/sec: *//p' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
for offers in ${OFFERS:-10 1000 10000}; do
	prof=()
	[[ -n "${CPUPROFILE:-}" ]] && prof=(-cpuprofile "$CPUPROFILE/rankworld-$offers.prof")
	"$tmp/rankworld" -needs "${NEEDS:-1000}" -offers "$offers" -requests "$tmp/req.tsv" "${flags[@]}" "${prof[@]}" >"$tmp/world.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do
		grep -q '^ready' "$tmp/world.out" && break
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/world.out" >&2; exit 1; }
		sleep 0.5
	done
	line=$(grep '^ready' "$tmp/world.out")
	addr=$(awk '{ print $2 }' <<<"$line")
	echo "== ${line#ready } ${flags[*]}${ENCODING:+ Accept-Encoding: $ENCODING}"
	wrk -t2 -c32 -d"$duration" --latency "http://$addr/healthz" >"$tmp/h.txt"
	CAPMATCH_REQUESTS=$tmp/req.tsv wrk -t2 -c32 -d"$duration" --latency -s "$repo/bench/wrk-many.lua" "http://$addr/" >"$tmp/r.txt"
	non2xx=$(grep -h 'Non-2xx' "$tmp/r.txt" || true)
	[[ -z "$non2xx" ]] || echo "   rankings: $non2xx"
	h=$(rps "$tmp/h.txt")
	r=$(rps "$tmp/r.txt")
	printf '   healthz   %8.0f req/s  p99 %s\n' "$h" "$(p99 "$tmp/h.txt")"
	printf '   rankings  %8.0f req/s  p99 %s\n' "$r" "$(p99 "$tmp/r.txt")"
	ratio=$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.2f", r / h }')
	echo "   ratio $ratio ($(awk -v x="$ratio" 'BEGIN { print (x >= 0.8 ? "meets" : "MISSES") }') the 0.8 target)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	pid=""
done
