#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, from Debian's packages, when it is missing:
#   redis-server   the real Redis the tests run against (and reliability tests start and kill)
#   redis-sentinel Redis Sentinel, for the failover tests (adapters/rediscache, reliability)
#   xmllint        validates IATI exports against the official schema (package libxml2-utils)
#   chromium       the web UI's browser tests (web/browser_test.go)
# `make test` runs it first, so that on a fresh machine the README's test command is all one types.
# Set CAPMATCH_NO_INSTALL=1 to only check and report.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${CAPMATCH_NO_INSTALL:-}" = 1 ]; then
  echo "test deps: missing Debian packages: ${missing[*]} (CAPMATCH_NO_INSTALL=1: not installing)" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "test deps: missing ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test deps: missing ${missing[*]} and no apt-get here; install the equivalent packages by hand" >&2
  exit 1
fi
echo "test deps: installing ${missing[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
