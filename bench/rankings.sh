#!/usr/bin/env bash
# bench/rankings.sh: issue 5's HTTP measurement of the cached ranking endpoint.
#
# Builds capmatch and capmatch-load, starts capmatch on a free loopback port with a fresh
# temporary data directory (embedded store and cache, demo data on, production log level,
# access log to a file), signs in as the Senegal ministry, warms one need's ranking, then in
# the same run:
#
#   1. wrk -t2 -c32 -d20s against /healthz, then against GET /api/v1/needs/{id}/matches
#      with the Authorization header (bench/wrk-auth.lua), and prints both rates and their
#      ratio (target: ranking ≥ 0.5 × healthz);
#   2. capmatch-load -mode rankings at 70% of the ranking rate wrk reached, for 25 s, over
#      20 warmed needs, and prints p50/p95/p99 (target: p99 ≤ 15 ms); the Go generator needs
#      more CPU per request than wrk and shares the two cores with the server, so if it
#      cannot send that rate it measures the rate it can drive itself (closed loop, 32 in
#      flight, 10 s) and repeats the run at 70% of that;
#
#   3. wrk itself at 70% of its ranking peak, paced by bench/wrk-paced.lua (64 connections,
#      each waiting a calibrated delay after every response), for LOAD_DURATION, and prints
#      the rate it sent and p50/p90/p99 (target: p99 ≤ 15 ms): the generator that leaves the
#      server most of the two cores;
#
# then stops the server with SIGTERM and removes everything it created.
#
# Environment (all optional):
#   REDIS_URL     use this real Redis instead of the in-process one (a unique key prefix
#                 is used, so a shared server is safe)
#   DURATION      wrk duration per endpoint (default 20s)
#   LOAD_DURATION capmatch-load duration (default 25s)
#   ROUNDS        how many healthz/ranking wrk pairs to run (default 1)
#   KEEP          set to 1 to keep the temporary directory (server log, wrk output)
#   WAIT_QUIET    wait (at most 10 minutes) until the 1-minute load average is below this
#                 number before measuring, e.g. WAIT_QUIET=1.5 on a shared machine
#   CAPMATCH_BIN  measure this capmatch binary instead of building one (A/B comparisons)
#
# Usage: bench/rankings.sh        (from anywhere; it finds the repository from its own path)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${DURATION:-20s}
load_duration=${LOAD_DURATION:-25s}
rounds=${ROUNDS:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capmatch-bench.XXXXXX")
server_pid=""

cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			echo "server did not stop within 10 s of SIGTERM; killing it" >&2
			kill -KILL "$server_pid" 2>/dev/null || true
		fi
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ "${KEEP:-}" == 1 ]]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk curl jq go; do
	command -v "$tool" >/dev/null || { echo "rankings.sh needs $tool (wrk: apt-get install wrk)" >&2; exit 2; }
done

if [[ -n "${WAIT_QUIET:-}" ]]; then
	for _ in $(seq 1 120); do
		awk -v q="$WAIT_QUIET" '{ exit !($1 < q) }' /proc/loadavg && break
		sleep 5
	done
	echo "== load average $(cut -d' ' -f1-3 /proc/loadavg) (asked for < $WAIT_QUIET)"
fi

echo "== build"
if [[ -n "${CAPMATCH_BIN:-}" ]]; then
	cp "$CAPMATCH_BIN" "$tmp/capmatch"
	echo "   server: $CAPMATCH_BIN"
else
	(cd "$repo" && go build -o "$tmp/capmatch" ./cmd/capmatch)
fi
(cd "$repo" && go build -o "$tmp/capmatch-load" ./cmd/capmatch-load)

echo "== start capmatch (embedded store, demo data, log level ${CAPMATCH_LOG_LEVEL:-info})"
env_args=(CAPMATCH_ADDR=127.0.0.1:0 CAPMATCH_DATA_DIR="$tmp/data" CAPMATCH_DEMO=true)
if [[ -n "${REDIS_URL:-}" ]]; then
	env_args+=(REDIS_URL="$REDIS_URL" CAPMATCH_REDIS_PREFIX="capmatch-bench-$$-$RANDOM:")
	echo "   cache: real Redis at REDIS_URL (prefix capmatch-bench-$$-*)"
else
	echo "   cache: in-process Redis"
fi
env -u MONGO_URI "${env_args[@]}" "$tmp/capmatch" >"$tmp/server.log" 2>"$tmp/server.err" &
server_pid=$!

addr=""
for _ in $(seq 1 240); do # up to 120 s: the first start compiles nothing, but FerretDB needs a moment
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "capmatch exited during start-up:" >&2
		tail -5 "$tmp/server.err" "$tmp/server.log" >&2
		exit 1
	fi
	addr=$(grep -m1 '"msg":"capmatch running"' "$tmp/server.log" 2>/dev/null | jq -r .addr || true)
	if [[ -n "$addr" ]] && curl -sf "http://$addr/readyz" >/dev/null; then
		break
	fi
	addr=""
	sleep 0.5
done
[[ -n "$addr" ]] || { echo "capmatch not ready after 120 s" >&2; exit 1; }
case "$addr" in 127.*) ;; *) echo "refusing to load $addr: not loopback" >&2; exit 1 ;; esac
base="http://$addr"
echo "   listening on $base (pid $server_pid)"

echo "== sign in and warm a ranking"
token=$(curl -sf "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d '{"email":"ministry.sn@capmatch.example","password":"demo-ministry-sn!"}' | jq -r .access_token)
[[ -n "$token" && "$token" != null ]] || { echo "sign-in failed" >&2; exit 1; }
need=$(curl -sf "$base/api/v1/needs?limit=1" -H "Authorization: Bearer $token" | jq -r '.items[0].id')
ranking="$base/api/v1/needs/$need/matches?limit=10"
curl -sf "$ranking" -H "Authorization: Bearer $token" >/dev/null
cached=$(curl -sf "$ranking" -H "Authorization: Bearer $token" | jq -r '"cached=\(.cached) items=\(.items|length)"')
bytes=$(curl -sf "$ranking" -H "Authorization: Bearer $token" | wc -c)
echo "   need $need: $cached, $bytes bytes"

rps() { sed -n 's/^Requests\/sec: *//p' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }

for round in $(seq 1 "$rounds"); do
	echo "== round $round: wrk -t2 -c32 -d$duration /healthz"
	wrk -t2 -c32 -d"$duration" --latency "$base/healthz" >"$tmp/wrk-healthz-$round.txt"
	echo "== round $round: wrk -t2 -c32 -d$duration ranking (Authorization header)"
	CAPMATCH_TOKEN=$token wrk -t2 -c32 -d"$duration" --latency -s "$repo/bench/wrk-auth.lua" "$ranking" >"$tmp/wrk-ranking-$round.txt"
	h=$(rps "$tmp/wrk-healthz-$round.txt")
	r=$(rps "$tmp/wrk-ranking-$round.txt")
	non2xx=$(grep -h 'Non-2xx' "$tmp/wrk-ranking-$round.txt" || true)
	[[ -z "$non2xx" ]] || echo "   ranking: $non2xx"
	printf '   healthz  %10.0f req/s  p99 %s\n' "$h" "$(p99 "$tmp/wrk-healthz-$round.txt")"
	printf '   ranking  %10.0f req/s  p99 %s\n' "$r" "$(p99 "$tmp/wrk-ranking-$round.txt")"
	ratio=$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.2f", r / h }')
	verdict=$(awk -v x="$ratio" 'BEGIN { print (x >= 0.5 ? "meets" : "MISSES") }')
	echo "   ratio ranking/healthz: $ratio ($verdict the 0.5 target)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done

# load RATE LABEL: capmatch-load over 20 warmed needs at RATE req/s for LOAD_DURATION; prints
# p50/p95/p99 and returns 1 when the generator could not send RATE (it shares the two cores
# with the server and wrk is lighter than it).
load() {
	local rate=$1 label=$2 out="$tmp/load-$1.txt"
	echo "== capmatch-load -mode rankings at $label: $rate req/s for $load_duration"
	"$tmp/capmatch-load" -target "$base" -mode rankings -rate "$rate" -duration "$load_duration" | tee "$out"
	local row p99ms sent verdict
	row=$(awk '$1 == "need_matches"' "$out")
	sent=$(awk '{ print $3 }' <<<"$row")
	p99ms=$(awk '{ sub("ms", "", $8); print $8 }' <<<"$row")
	verdict="$(awk -v x="$p99ms" 'BEGIN { print (x <= 15 ? "meets" : "MISSES") }') the 15 ms target"
	if awk -v s="$sent" -v r="$rate" 'BEGIN { exit !(s < 0.95 * r) }'; then
		verdict="rate not reached: $sent req/s sent, no verdict"
	fi
	echo "   p50 $(awk '{ print $6 }' <<<"$row"), p95 $(awk '{ print $7 }' <<<"$row"), p99 ${p99ms} ms at $label" \
		"($verdict)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -v s="$sent" -v r="$rate" 'BEGIN { exit (s < 0.95 * r) }'
}

if ! load "$(awk -v r="$r" 'BEGIN { printf "%d", r * 0.7 }')" "70% of the wrk ranking peak"; then
	echo "== capmatch-load fell behind; closed loop, 32 in flight, 10 s: the rate it can drive itself"
	"$tmp/capmatch-load" -target "$base" -mode rankings -rate 0 -workers 32 -duration 10s | tee "$tmp/load-closed.txt"
	own=$(awk '$1 == "need_matches" { print $4 }' "$tmp/load-closed.txt")
	load "$(awk -v r="$own" 'BEGIN { printf "%d", r * 0.7 }')" "70% of capmatch-load's own peak" || true
fi

# Step 3: wrk itself at 70% of its ranking peak. wrk has no rate option, so each of 64
# connections waits a delay after each response (bench/wrk-paced.lua); short calibration runs
# set the delay until wrk sends the target rate, then one run of LOAD_DURATION measures.
target=$(awk -v r="$r" 'BEGIN { printf "%d", r * 0.7 }')
avg_ms() { # wrk's mean latency in ms
	awk '$1 == "Latency" { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 }; print v; exit }' "$1"
}
conns=64
delay=$(awk -v c="$conns" -v t="$target" 'BEGIN { d = c * 1000 / t - 0.5; if (d < 0) d = 0; printf "%.3f", d }')
echo "== wrk -t2 -c$conns paced at 70% of the wrk ranking peak: $target req/s"
for i in 1 2 3 4; do
	CAPMATCH_TOKEN=$token CAPMATCH_DELAY_MS=$delay wrk -t2 -c"$conns" -d5s --latency -s "$repo/bench/wrk-paced.lua" "$ranking" >"$tmp/wrk-cal-$i.txt"
	got=$(rps "$tmp/wrk-cal-$i.txt")
	lat=$(avg_ms "$tmp/wrk-cal-$i.txt")
	echo "   calibration $i: delay $delay ms -> $(printf '%.0f' "$got") req/s (mean latency $lat ms)"
	delay=$(awk -v d="$delay" -v l="$lat" -v g="$got" -v t="$target" 'BEGIN { n = (d + l) * g / t - l; if (n < 0) n = 0; printf "%.3f", n }')
done
CAPMATCH_TOKEN=$token CAPMATCH_DELAY_MS=$delay wrk -t2 -c"$conns" -d"$load_duration" --latency -s "$repo/bench/wrk-paced.lua" "$ranking" >"$tmp/wrk-paced.txt"
got=$(rps "$tmp/wrk-paced.txt")
paced_p99=$(p99 "$tmp/wrk-paced.txt")
p99ms=$(awk -v v="$paced_p99" 'BEGIN { if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 }; print v }')
non2xx=$(grep -h 'Non-2xx\|Socket errors' "$tmp/wrk-paced.txt" || true)
[[ -z "$non2xx" ]] || echo "   paced: $non2xx"
share=$(awk -v g="$got" -v r="$r" 'BEGIN { printf "%.0f", 100 * g / r }')
verdict="$(awk -v x="$p99ms" 'BEGIN { print (x <= 15 ? "meets" : "MISSES") }') the 15 ms target"
if awk -v g="$got" -v t="$target" 'BEGIN { exit !(g < 0.95 * t) }'; then
	verdict="rate not reached, no verdict"
fi
echo "   paced: $(printf '%.0f' "$got") req/s ($share% of the wrk ranking peak), p50 $(awk '$1 == "50%" { print $2 }' "$tmp/wrk-paced.txt"), p90 $(awk '$1 == "90%" { print $2 }' "$tmp/wrk-paced.txt"), p99 $paced_p99 ($verdict)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== stop capmatch (SIGTERM)"
