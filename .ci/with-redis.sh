#!/usr/bin/env bash
# Runs a command with REDIS_URL pointing at a throwaway real redis-server on a free loopback port,
# stopped afterwards. With REDIS_URL already set, runs the command against that server instead.
set -euo pipefail
if [ -n "${REDIS_URL:-}" ]; then exec "$@"; fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 16379)
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
cleanup() { kill "$(cat "$dir/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null
export REDIS_URL="redis://127.0.0.1:$port/0"
echo "test: real redis-server at $REDIS_URL"
"$@"
