# Shared settings and helpers for the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE="$ROOT/.local"                                  # git-ignored: databases, logs, pids
TOOLS_CACHE="${EDGESHOP_TOOLS:-$HOME/.cache/edgeshop/tools}"  # shared by every clone
WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")
WORKER_BUILD_BIN="$TOOLS_CACHE/worker-build-$WORKER_BUILD_VERSION/bin/worker-build"
WASM_BINDGEN_BIN="$TOOLS_CACHE/wasm-bindgen-cli-$WASM_BINDGEN_VERSION/bin/wasm-bindgen"
# schemathesis (PyPI) for scripts/contract: a venv in the tool cache, linked
# as .local/schemathesis. Pinned: its checks and CLI options change between
# releases, and scripts/contract and schemathesis.toml are written for this one.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV="$TOOLS_CACHE/schemathesis-$SCHEMATHESIS_VERSION"
# The third parties' local stand-ins (tests/fakes, run by scripts/fakes):
# localstripe (the Stripe fake's core), stripe-python (to check the webhooks
# it signs), cryptography (the PayPal fake's certificate and signatures) and
# aiohttp (every fake's server: the Stripe fake patches into localstripe's app;
# the carrier and notification fakes need nothing else).
# Pinned, in a venv named after the pins: a bump makes a new venv.
PAYFAKES_PINS=(localstripe==1.15.10 stripe==16.1.0 cryptography==50.0.2 aiohttp==3.14.5)
PAYFAKES_VENV="$TOOLS_CACHE/payfakes-$(IFS=-; echo "${PAYFAKES_PINS[*]//==/}")"
# Where the fakes listen (scripts/fakes picks free ones once per checkout and
# keeps them in .local/ports.env, like the databases' ports).
STRIPE_FAKE_DEFAULT_PORT=25340
PAYPAL_FAKE_DEFAULT_PORT=25341
CARRIER_FAKE_DEFAULT_PORT=25342
NOTIFY_FAKE_DEFAULT_PORT=25343
EDGE_HOST=127.0.0.1
EDGE_PORT=${EDGESHOP_PORT:-8787}
EDGE_URL="http://$EDGE_HOST:$EDGE_PORT"
# Every function worker (functions/<name>, not the edge), in deploy order, from
# scripts/workers: names only, comment lines (#) and blank lines skipped.
mapfile -t FUNCTIONS < <(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' -e '/^$/d' "$ROOT/scripts/workers")
DB_NAME=shop
DB_USER=shop
DB_PASSWORD=shop   # Hyperdrive's local connection string must carry one, even with trust auth

export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="$STATE/xdg" WRANGLER_LOG_PATH="$STATE/logs/wrangler"
export WASM_BINDGEN_BIN WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt" ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

# initdb and postgres refuse to run as root: use the postgres account then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p=$1
  while port_in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}

# Ports are chosen once per checkout and remembered.
load_ports() {
  mkdir -p "$STATE"
  if [ -f "$STATE/ports.env" ]; then
    # shellcheck disable=SC1091
    . "$STATE/ports.env"
  fi
}
# Writes the named port variables into .local/ports.env, keeping the other
# lines (scripts/db keeps the databases' ports there, scripts/fakes the fakes').
save_ports_of() { # NAME...
  local file="$STATE/ports.env" name
  mkdir -p "$STATE"
  {
    if [ -f "$file" ]; then grep -Ev "^($(IFS='|'; echo "$*"))=" "$file" || true; fi
    for name in "$@"; do echo "$name=${!name}"; done
  } > "$file.new"
  mv "$file.new" "$file"
}

db_url() { echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$1/$DB_NAME"; }
# What the Hyperdrive bindings connect to locally: PgBouncer, per database.
pooled_url() { echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGBOUNCER_PORT/${DB_NAME}_$1"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# For scripts that reuse a running stack or start their own (scripts/test,
# scripts/bench): set STACK_STARTED=1 after starting one, and call this once.
# On exit it stops the stack only if this script started it (after waiting
# $1 seconds, default 0), and the script keeps its own exit status: a script
# that reused a stack and succeeded exits 0. (An EXIT trap whose last command
# is `[ $started = 1 ] && ...` made the script exit 1 whenever it had reused a
# stack; scripts/check-scripts tests this.)
STACK_STARTED=0
stop_stack() { "$ROOT/scripts/dev" --stop; }
stop_stack_on_exit_if_started() {
  # shellcheck disable=SC2064  # the delay is fixed now, on purpose
  trap "_stop_stack_if_started ${1:-0}" EXIT
}
_stop_stack_if_started() {
  local rc=$? stop_rc=0
  if [ "$STACK_STARTED" = 1 ]; then
    sleep "$1"
    stop_stack || stop_rc=$?
  fi
  # A failed stop fails a run that had otherwise succeeded.
  if [ "$rc" = 0 ]; then exit "$stop_rc"; fi
  exit "$rc"
}
