#!/usr/bin/env bash
# bench/mixed.sh: issue 16's target 4 — p99 ≤ 15 ms at 70% of the peak for a mixed load
# against a real redis-server, with the generator's own ceiling reported.
#
# Starts redis-server on a free loopback port (no persistence), builds capmatch and
# capmatch-load, and then, each time on a fresh capmatch (a new temporary data directory,
# embedded store, demo data, REDIS_URL pointing at that Redis, its own key prefix):
#
#   1. the generator's ceiling: capmatch-load over GET /healthz alone (-mix healthz=1) in
#      closed loop with as many requests in flight as the mixed run may have (CEILING_WORKERS,
#      default 64) for 10 s: the most requests per second the tool can drive and have answered
#      by the lightest endpoint on this machine; and (step 1b) GET /healthz alone at the rate
#      of step 3 for 30 s: what the generator and the machine add to any request at that rate;
#   2. the mixed peak: capmatch-load -mode peak -peak-of mixed over MIX (rankings of needs and
#      offers, lists, searches, need pages; need creation, offer edits, engagement steps);
#   3. the mixed load at 70% of that peak for DURATION (capmatch-load -mode mixed, which reads
#      every acknowledged write back and exits 1 if one was lost);
#
# and prints p50/p95/p99 per op and overall, with the load average before and after each
# step. Everything it started (Redis, each capmatch) is stopped by its pid; the temporary
# directory is removed unless KEEP=1.
#
# Environment (all optional):
#   MIX          capmatch-load -mix (default: the tool's default mix plus need_page=10)
#   DURATION     the 70% run's duration (default 60s; at most 10m)
#   PEAK_P99     a peak step fails when its p99 exceeds this (default 250ms, as issue 8)
#   PEAK_START   first rate of the mixed peak search (default 150)
#   PEAK_STEP    duration of one peak step (default 10s)
#   RATE         skip steps 1 and 2 and run step 3 at this rate (req/s)
#   CEILING_WORKERS  requests in flight for step 1 (default 64, capmatch-load's -max-workers)
#   PPROF=1      serve pprof on a free loopback port during step 3 and save a 20 s CPU
#                profile of the server to $tmp/cpu.prof, then a 5 s execution trace to
#                $tmp/trace.out (use KEEP=1 to keep them; DURATION ≥ 45s)
#   KEEP=1       keep the temporary directory (server logs, outputs, profile)
#   BIN          a capmatch binary to run instead of building one (for A/B pairs: build the old
#                tree's binary elsewhere, then run BIN=old and BIN=new back to back)
#   SERVER_ENV   extra VAR=value words for every capmatch started (e.g. CAPMATCH_EMBEDDED_SYNC=normal)
#   SKIP_1B=1    skip step 1b (healthz alone at the rate)
#   WAIT_QUIET   wait (at most 10 minutes) until the 1-minute load average is below this
#
# Usage: bench/mixed.sh        (from anywhere; it finds the repository from its own path)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mix=${MIX:-need_matches=50,offer_matches=10,list=15,search=15,need_page=10,create_need=5,patch_offer=5,propose=4,accept=2,decline=1,withdraw=1,message=1}
duration=${DURATION:-60s}
peak_p99=${PEAK_P99:-250ms}
peak_start=${PEAK_START:-150}
peak_step=${PEAK_STEP:-10s}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capmatch-mixed.XXXXXX")
redis_pid=""
server_pid=""

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL
	local pid=$1 name=$2
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$name did not stop within 10 s of SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$server_pid" capmatch
	stop_pid "$redis_pid" redis-server
	if [[ "${KEEP:-}" == 1 ]]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in redis-server redis-cli curl jq go python3; do
	command -v "$tool" >/dev/null || { echo "mixed.sh needs $tool" >&2; exit 2; }
done

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [[ -n "${WAIT_QUIET:-}" ]]; then
	for _ in $(seq 1 120); do
		awk -v q="$WAIT_QUIET" '{ exit !($1 < q) }' /proc/loadavg && break
		sleep 5
	done
fi

echo "== build ($(date -u +%H:%M:%S) UTC, load average $(loadavg))"
if [[ -n "${BIN:-}" ]]; then
	cp "$BIN" "$tmp/capmatch"
	echo "   capmatch: $BIN"
else
	(cd "$repo" && go build -o "$tmp/capmatch" ./cmd/capmatch)
fi
(cd "$repo" && go build -o "$tmp/capmatch-load" ./cmd/capmatch-load)

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" >/dev/null 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
	redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
	sleep 0.1
done
redis-cli -p "$redis_port" ping | grep -q PONG || { echo "redis-server did not start" >&2; exit 1; }
echo "== redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$redis_port (pid $redis_pid)"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"

# start_server NAME [pprof]: a fresh capmatch on a new data directory; sets base, server_pid.
start_server() {
	local name=$1 env_args
	stop_pid "$server_pid" capmatch
	env_args=(CAPMATCH_ADDR=127.0.0.1:0 CAPMATCH_DATA_DIR="$tmp/data-$name" CAPMATCH_DEMO=true
		REDIS_URL="$REDIS_URL" CAPMATCH_REDIS_PREFIX="capmatch-mixed-$name:")
	if [[ -n "${SERVER_ENV:-}" ]]; then
		read -r -a extra <<<"$SERVER_ENV"
		env_args+=("${extra[@]}")
	fi
	if [[ "${2:-}" == pprof ]]; then
		pprof_addr=127.0.0.1:$(free_port)
		env_args+=(CAPMATCH_PPROF_ADDR="$pprof_addr")
	fi
	env -u MONGO_URI "${env_args[@]}" "$tmp/capmatch" >"$tmp/server-$name.log" 2>"$tmp/server-$name.err" &
	server_pid=$!
	local addr=""
	for _ in $(seq 1 240); do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "capmatch exited during start-up:" >&2
			tail -5 "$tmp/server-$name.err" "$tmp/server-$name.log" >&2
			exit 1
		fi
		addr=$(grep -m1 '"msg":"capmatch running"' "$tmp/server-$name.log" 2>/dev/null | jq -r .addr || true)
		if [[ -n "$addr" ]] && curl -sf "http://$addr/readyz" >/dev/null; then
			break
		fi
		addr=""
		sleep 0.5
	done
	[[ -n "$addr" ]] || { echo "capmatch not ready after 120 s" >&2; exit 1; }
	case "$addr" in 127.*) ;; *) echo "refusing to load $addr: not loopback" >&2; exit 1 ;; esac
	base="http://$addr"
	echo "   capmatch ($name) on $base, pid $server_pid"
}

peak_args=(-mode peak -peak-of mixed -peak-p99 "$peak_p99" -peak-start "$peak_start" -peak-factor 1.2
	-peak-step "$peak_step")
peak_of() { sed -n 's/^peak: \([0-9]*\) req\/s.*/\1/p' "$1"; }

if [[ -z "${RATE:-}" ]]; then
	workers=${CEILING_WORKERS:-64}
	echo "== 1. generator ceiling: GET /healthz alone, closed loop, $workers in flight, 10s (load average $(loadavg))"
	start_server healthz
	"$tmp/capmatch-load" -target "$base" -mode mixed -mix healthz=1 -rate 0 -workers "$workers" -duration 10s | tee "$tmp/ceiling.txt"
	ceiling=$(awk '$1 == "healthz" { print $4 }' "$tmp/ceiling.txt")
	echo "   generator ceiling (healthz, $workers in flight): ${ceiling:-?} req/s answered   load average $(loadavg)"

	echo "== 2. mixed peak: $mix (load average $(loadavg))"
	start_server peak
	"$tmp/capmatch-load" -target "$base" "${peak_args[@]}" -mix "$mix" | tee "$tmp/peak-mixed.txt"
	peak=$(peak_of "$tmp/peak-mixed.txt")
	[[ -n "$peak" ]] || { echo "no mixed peak found" >&2; exit 1; }
	rate=$(awk -v p="$peak" 'BEGIN { printf "%d", p * 0.7 }')
	echo "   mixed peak: $peak req/s; 70%: $rate req/s   load average $(loadavg)"
else
	rate=$RATE
	echo "== RATE=$rate given: no peak search"
fi

if [[ "${SKIP_1B:-}" != 1 ]]; then
	echo "== 1b. GET /healthz alone at $rate req/s for 30s: the generator's share of any latency (load average $(loadavg))"
	start_server healthz-rate
	"$tmp/capmatch-load" -target "$base" -mode mixed -mix healthz=1 -rate "$rate" -duration 30s | tee "$tmp/healthz-rate.txt"
fi

echo "== 3. mixed load at $rate req/s for $duration (load average $(loadavg))${SERVER_ENV:+ with $SERVER_ENV}"
if [[ "${PPROF:-}" == 1 ]]; then
	start_server mixed pprof
else
	start_server mixed
fi
"$tmp/capmatch-load" -target "$base" -mode mixed -mix "$mix" -rate "$rate" -duration "$duration" >"$tmp/mixed.txt" 2>&1 &
load_pid=$!
if [[ "${PPROF:-}" == 1 ]]; then
	sleep 20 # past provisioning and warm-up, into the timed run
	curl -sf "http://$pprof_addr/debug/pprof/profile?seconds=20" -o "$tmp/cpu.prof" && echo "   server CPU profile: $tmp/cpu.prof"
	# where requests wait off the CPU (syscalls such as the store's fsync, channels, locks):
	# go tool trace -pprof=syscall (or sync, net) $tmp/trace.out
	curl -sf "http://$pprof_addr/debug/pprof/trace?seconds=5" -o "$tmp/trace.out" && echo "   server execution trace: $tmp/trace.out"
fi
status=0
wait "$load_pid" || status=$?
cat "$tmp/mixed.txt"
echo "== done ($(date -u +%H:%M:%S) UTC): capmatch-load exit status $status, load average $(loadavg)"
exit "$status"
