# Shared by scripts/run and scripts/test: find or install-and-start the
# services Stampede needs. Reuses whatever already answers on the ports.
set -euo pipefail

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
APP_DB_USER="${APP_DB_USER:-stampede}"
APP_DB_PASSWORD="${APP_DB_PASSWORD:-stampede}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "need to install $* but apt-get is not available; install it by hand" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_build_tools() {
  command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install the Rust toolchain (rustup)" >&2; exit 1; }
  command -v cc >/dev/null 2>&1 || apt_install build-essential
}

# Runs SQL as a Postgres superuser: over TCP when trust auth allows it,
# otherwise as the postgres OS user over the local socket.
pg_admin() {
  if psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1" 2>/dev/null; then
    return 0
  fi
  $SUDO runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
}

ensure_postgres() {
  command -v pg_isready >/dev/null 2>&1 || apt_install postgresql-client
  if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql
    fi
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    log "starting PostgreSQL $version"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do
      pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && break
      sleep 0.5
    done
    pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || { echo "PostgreSQL did not start" >&2; exit 1; }
  fi
  # An application role that may create the per-test databases.
  if [ "$(pg_admin "SELECT 1 FROM pg_roles WHERE rolname = '$APP_DB_USER'")" != "1" ]; then
    log "creating Postgres role $APP_DB_USER"
    pg_admin "CREATE ROLE $APP_DB_USER LOGIN CREATEDB PASSWORD '$APP_DB_PASSWORD'" >/dev/null
  fi
}

# The outage test starts a private cluster with initdb/pg_ctl: the server
# package must be installed even when a Postgres elsewhere already answers.
ensure_postgres_binaries() {
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt_install postgresql
  fi
}

# ensure_database NAME: creates the database owned by the app role if missing.
ensure_database() {
  if [ "$(pg_admin "SELECT 1 FROM pg_database WHERE datname = '$1'")" != "1" ]; then
    log "creating database $1"
    pg_admin "CREATE DATABASE $1 OWNER $APP_DB_USER" >/dev/null
  fi
}

ensure_redis() {
  command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
  # The multi-node tests start Redis servers of their own, so the binary is needed too.
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "starting Redis on $REDIS_PORT"
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    for _ in $(seq 1 40); do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
      sleep 0.25
    done
  fi
}

# Headless Chromium and its WebDriver, for the watch-page browser test.
ensure_browser() {
  if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
    apt_install chromium chromium-driver
  fi
  # A Japanese font, so the Japanese pages' screenshots show text, not boxes.
  if [ ! -d /usr/share/fonts/opentype/ipafont-gothic ]; then
    apt_install fonts-ipafont-gothic
  fi
}

# debootstrap, with which tests/container.rs builds the image's root
# filesystem (no container engine runs here). chroot comes with coreutils.
ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
}

# Node.js 20 or later (the JS client and the Node tests need it) with npm:
# Debian's packages when missing; where Debian's Node is older (bookworm
# ships 18), the official Node 20 build from the npm registry's
# node-linux-<arch> package, kept under .stampede-run/node and put first on
# PATH (Debian's npm runs fine on it).
NODE_FALLBACK_VERSION=20.20.2
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "Node.js 20 is needed; install it for $(uname -m) by hand" >&2; exit 1 ;;
  esac
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.stampede-run/node"
  local bin="$dir/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    log "installing Node.js $NODE_FALLBACK_VERSION from the npm registry (Debian's is $(node --version))"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
      "node-linux-$arch@$NODE_FALLBACK_VERSION" >/dev/null
  fi
  export PATH="$bin:$PATH"
}

# `npm ci` in $1 (relative to the repository) when its package-lock.json
# changed since the last install, or when $2 (a file its install creates)
# is missing; a stamp in node_modules remembers the lock.
npm_ci_when_changed() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../$1" && pwd)"
  local stamp="$dir/node_modules/.stampede-lock.sha256"
  local lock
  lock="$(sha256sum "$dir/package-lock.json" | cut -d ' ' -f 1)"
  if [ -f "$dir/node_modules/$2" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock" ]; then
    return 0
  fi
  log "npm ci in $1"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  printf '%s\n' "$lock" >"$stamp"
}

# axe-core, which the browser tests inject into the pages under test.
ensure_axe() {
  npm_ci_when_changed tests/axe axe-core/axe.min.js
}

# @stampede/client's dev tools (clients/js: TypeScript, esbuild, ws), for
# tests/js_client.rs, which runs the package's Node tests.
ensure_js_client() {
  npm_ci_when_changed clients/js ws/package.json
}

# socket.io-client and ws, for tests/socketio.rs's Node tests.
ensure_socketio_tests() {
  npm_ci_when_changed tests/socketio socket.io-client/package.json
}

app_url() {
  printf 'postgres://%s:%s@%s:%s/%s' "$APP_DB_USER" "$APP_DB_PASSWORD" "$PG_HOST" "$PG_PORT" "$1"
}
