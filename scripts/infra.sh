#!/usr/bin/env bash
# Local infrastructure without Docker: PostgreSQL and RabbitMQ from the Debian packages (plus, for dev, a
# capturing SMTP server), running on loopback with their data under .data/<profile>/ of this repository.
#
#   scripts/infra.sh install              install missing Debian packages (INFRA_MINIMAL=1: skip the optional ones)
#   scripts/infra.sh start dev|test       start (idempotent) and wait until ready; dev also creates the databases
#   scripts/infra.sh stop dev|test        stop what start started; data is kept
#   scripts/infra.sh env dev|test         print `export VAR=...` lines for the running profile
#   scripts/infra.sh status [dev|test]    show what is running
#
# Profiles (preferred ports; when one is taken by something else, a free alternative is used and announced):
#   dev : PostgreSQL 5432, RabbitMQ 5672 (node feedback@localhost, dist 25672), SMTP catcher 1025
#   test: PostgreSQL 55432, RabbitMQ 5673 (node feedbacktest@localhost, dist 25673)
# The ports actually in use are remembered in .data/<profile>/ports.env, which `env` and `stop` read.
# INFRA_DEV_NODENAME / INFRA_TEST_NODENAME change the node names (e.g. for a second clone on the same machine);
# INFRA_MINIMAL=1 makes `install` skip dovecot-imapd, chromium, chromium-driver and fonts-liberation.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DATA_ROOT="$ROOT/.data"
DATABASES=(intake triage notification reporting scheduler)

# Packages. The optional ones are only needed by later end-to-end tests (IMAP intake, browser console tests).
CORE_PACKAGES=(rabbitmq-server python3-aiosmtpd curl ca-certificates gcc libc6-dev pkg-config)
INFRA_OPTIONAL_PACKAGES="${INFRA_OPTIONAL_PACKAGES-dovecot-imapd chromium chromium-driver fonts-liberation fonts-noto-cjk}"

PG_START_TIMEOUT="${INFRA_PG_TIMEOUT:-60}"
RABBIT_START_TIMEOUT="${INFRA_RABBIT_TIMEOUT:-120}"
MAIL_START_TIMEOUT=20

log() { printf 'infra: %s\n' "$*" >&2; }
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# Runs a command with root rights: directly as root, else through sudo, else fails with a clear message.
as_root() {
  if [ "$IS_ROOT" = 1 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root rights to run '$*' (not root and sudo is not installed); run this as root once"
  fi
}

# Runs a command as a system user without a PAM session: `su`/`runuser` go through pam_limits, which resets
# the raised open-files limit to 1024. Environment variables are kept.
as_user() {
  local user=$1; shift
  (cd / && exec setpriv --reuid="$user" --regid="$user" --init-groups "$@")
}

# PostgreSQL refuses to run as root: as root we run it as the `postgres` user, otherwise as ourselves.
as_pg() {
  if [ "$IS_ROOT" = 1 ]; then as_user postgres "$@"; else "$@"; fi
}

# The Debian wrappers in /usr/sbin switch from root to the `rabbitmq` user themselves (and use its Erlang
# cookie in /var/lib/rabbitmq); anyone else has to use the real scripts and their own cookie.
rabbit_bin() {
  if [ "$IS_ROOT" = 1 ]; then echo "/usr/sbin/$1"; else echo "/usr/lib/rabbitmq/bin/$1"; fi
}

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found; run: scripts/infra.sh install"
  echo "$d"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# The first port of the list that nobody listens on.
first_free_port() {
  local p
  for p in "$@"; do
    if ! port_busy "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# True when process $1 exists and has not exited (zombie Z or dead X).
pid_alive() {
  local st
  [ -n "${1:-}" ] || return 1
  st="$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

read_pid() { [ -s "$1" ] && head -n 1 "$1" | tr -dc '0-9' || true; }

print_tail() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# ---------------------------------------------------------------------------------------------------------------
# install

installed_packages() {
  # Prints the names of the given packages that are installed (one dpkg call: fast when nothing is missing).
  # (dpkg-query fails for packages it has never heard of; the others are still listed.)
  { dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true; } | awk '$NF == "installed" { print $1 }'
}

cmd_install() {
  local want=("${CORE_PACKAGES[@]}") missing=() p have new_pg=0 new_rabbit=0
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    want+=(postgresql)
  fi
  if [ "${INFRA_MINIMAL:-0}" != 1 ]; then
    # shellcheck disable=SC2206
    want+=($INFRA_OPTIONAL_PACKAGES)
  fi
  have=" $(installed_packages "${want[@]}" | tr '\n' ' ') "
  for p in "${want[@]}"; do
    [[ "$have" == *" $p "* ]] || missing+=("$p")
  done

  if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    if [ "$IS_ROOT" != 1 ] && ! command -v sudo >/dev/null 2>&1; then
      die "missing packages: ${missing[*]}; installing them needs root (not root, and sudo is not installed): run 'scripts/infra.sh install' as root"
    fi
    [[ " ${missing[*]} " == *" postgresql "* ]] && new_pg=1
    [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && new_rabbit=1
    local apt_log started=$SECONDS
    apt_log="$(mktemp "${TMPDIR:-/tmp}/infra-apt.XXXXXX.log")"
    log "installing: ${missing[*]} (log: $apt_log)"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$apt_log" 2>&1; then
      print_tail "$apt_log"; die "apt-get update failed"
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >>"$apt_log" 2>&1; then
      print_tail "$apt_log"; die "apt-get install failed"
    fi
    log "installed in $((SECONDS - started)) s"
    neutralise_system_services "$new_pg" "$new_rabbit"
  fi
  ensure_rust
}

# The Debian packages start system-wide instances on 5432 / 5672 where an init system lets them (here
# policy-rc.d usually forbids it). Stop the ones our install just created and keep them from starting at boot,
# so they cannot clash with the dev profile. Instances that existed before are the user's: left alone (start
# then falls back to other ports and says so).
neutralise_system_services() {
  local new_pg=$1 new_rabbit=$2 ver name port status rest
  if [ "$new_pg" = 1 ] && command -v pg_lsclusters >/dev/null 2>&1; then
    while read -r ver name port status rest; do
      [ -n "$ver" ] || continue
      if [ "$status" = online ]; then
        log "stopping the Debian PostgreSQL cluster $ver/$name on port $port (installed just now)"
        as_root pg_ctlcluster "$ver" "$name" stop || true
      fi
      if [ -f "/etc/postgresql/$ver/$name/start.conf" ]; then
        echo manual | as_root tee "/etc/postgresql/$ver/$name/start.conf" >/dev/null || true
      fi
    done < <(pg_lsclusters -h 2>/dev/null || true)
  fi
  if [ "$new_rabbit" = 1 ]; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
    else
      command -v update-rc.d >/dev/null 2>&1 && as_root update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
      local sysnode
      sysnode="rabbit@$(hostname -s 2>/dev/null || hostname)"
      if timeout 30 "$(rabbit_bin rabbitmq-diagnostics)" -q -n "$sysnode" ping >/dev/null 2>&1; then
        log "stopping the Debian RabbitMQ node $sysnode (installed just now)"
        timeout 60 "$(rabbit_bin rabbitmqctl)" -q -n "$sysnode" stop >/dev/null 2>&1 || true
      fi
    fi
  fi
}

# The build needs a Rust toolchain; a fresh machine may not have one. rustup is the ordinary way to get a
# current one (Debian's rustc is older than the workspace's rust-version).
ensure_rust() {
  command -v cargo >/dev/null 2>&1 && return 0
  [ -x "$HOME/.cargo/bin/cargo" ] && return 0
  if [ "${INFRA_NO_RUSTUP:-0}" = 1 ]; then
    die "cargo not found (INFRA_NO_RUSTUP=1 forbids installing it); install Rust from https://rustup.rs"
  fi
  log "cargo not found: installing the stable Rust toolchain with rustup into $HOME/.cargo"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile default --no-modify-path >&2 \
    || die "rustup failed; install Rust from https://rustup.rs"
}

# ---------------------------------------------------------------------------------------------------------------
# profiles

# Sets the profile's variables: preferred ports, alternatives, node name and paths.
load_profile() {
  PROFILE="${1:-}"
  case "$PROFILE" in
    dev)
      PG_PORTS=(5432 $(seq 5433 5449))
      AMQP_PORTS=(5672 $(seq 5674 5689))            # 5673 belongs to the test profile
      DIST_PORTS=(25672 $(seq 25674 25689))
      SMTP_PORTS=(1025 $(seq 1026 1040))
      PROFILE_NODENAME="${INFRA_DEV_NODENAME:-feedback@localhost}"
      ;;
    test)
      PG_PORTS=(55432 $(seq 55433 55449))
      AMQP_PORTS=(5673 $(seq 5690 5705))
      DIST_PORTS=(25673 $(seq 25690 25705))
      SMTP_PORTS=()
      PROFILE_NODENAME="${INFRA_TEST_NODENAME:-feedbacktest@localhost}"
      ;;
    *) die "unknown profile '${PROFILE}' (expected dev or test)" ;;
  esac
  PD="$DATA_ROOT/$PROFILE"
  PGDATA="$PD/postgres"
  PG_LOG="$PD/log/postgresql.log"
  RD="$PD/rabbitmq"
  RABBIT_PID_FILE="$RD/rabbitmq.pid"
  RABBIT_OUT="$PD/log/rabbitmq-server.out"
  MAIL_DIR="$PD/mail"
  MAIL_PID_FILE="$PD/run/mailcatcher.pid"
  MAIL_LOG="$PD/log/mailcatcher.log"
  PORTS_FILE="$PD/ports.env"
  # Ports and node name remembered by the last start (empty when it never ran).
  PG_PORT="" AMQP_PORT="" DIST_PORT="" SMTP_PORT="" NODENAME=""
  if [ -f "$PORTS_FILE" ]; then
    NODENAME="$(sed -n 's/^NODENAME=//p' "$PORTS_FILE")"
    PG_PORT="$(sed -n 's/^PG_PORT=//p' "$PORTS_FILE")"
    AMQP_PORT="$(sed -n 's/^AMQP_PORT=//p' "$PORTS_FILE")"
    DIST_PORT="$(sed -n 's/^DIST_PORT=//p' "$PORTS_FILE")"
    SMTP_PORT="$(sed -n 's/^SMTP_PORT=//p' "$PORTS_FILE")"
  fi
  NODENAME="${NODENAME:-$PROFILE_NODENAME}"
  return 0
}

write_ports_file() {
  local tmp="$PORTS_FILE.tmp"
  {
    echo "# written by scripts/infra.sh start $PROFILE"
    echo "PG_PORT=$PG_PORT"
    echo "AMQP_PORT=$AMQP_PORT"
    echo "DIST_PORT=$DIST_PORT"
    echo "NODENAME=$NODENAME"
    [ -n "$SMTP_PORT" ] && echo "SMTP_PORT=$SMTP_PORT"
  } >"$tmp"
  mv -f "$tmp" "$PORTS_FILE"
}

# Make sure a service user can reach $2: every ancestor directory needs the search (x) bit for that user.
ensure_traversable() {
  local user=$1 dir=$2 d parts=() p
  [ "$IS_ROOT" = 1 ] || return 0
  as_user "$user" test -x "$dir" 2>/dev/null && return 0
  d="$dir"
  while [ "$d" != / ]; do parts=("$d" "${parts[@]}"); d="$(dirname "$d")"; done
  for p in "${parts[@]}"; do             # from the top down, so each change is really needed
    if [ -d "$p" ] && ! as_user "$user" test -x "$p" 2>/dev/null; then
      log "giving others search permission (o+x) on $p so that the '$user' user can reach its data"
      chmod o+x "$p"
    fi
  done
  as_user "$user" test -x "$dir" || die "the '$user' user cannot reach $dir"
}

prepare_dirs() {
  mkdir -p "$DATA_ROOT" "$PD" "$PD/run" "$PD/log"
  chmod 755 "$DATA_ROOT" "$PD" "$PD/log"
  if [ "$IS_ROOT" = 1 ]; then
    ensure_traversable postgres "$PD"
    ensure_traversable rabbitmq "$PD"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL

pg_running_pid() {
  local pid
  pid="$(read_pid "$PGDATA/postmaster.pid")"
  pid_alive "$pid" && echo "$pid"
  return 0
}

start_postgres() {
  local bin pid port ver
  bin="$(pg_bindir)"
  if [ -s "$PGDATA/PG_VERSION" ]; then
    ver="$(cat "$PGDATA/PG_VERSION")"
    if [ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]; then
      bin="/usr/lib/postgresql/$ver/bin"
    else
      die "$PGDATA was created by PostgreSQL $ver, which is not installed; remove it (make clean-data) or install postgresql-$ver"
    fi
  fi
  PG_BIN="$bin"

  pid="$(pg_running_pid)"
  if [ -n "$pid" ]; then
    port="$(sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null)"
    PG_PORT="${port:-$PG_PORT}"
    log "PostgreSQL ($PROFILE) already running on 127.0.0.1:$PG_PORT (pid $pid)"
  else
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      log "initialising PostgreSQL data in $PGDATA"
      if [ "$IS_ROOT" = 1 ]; then install -d -m 700 -o postgres -g postgres "$PGDATA"; else install -d -m 700 "$PGDATA"; fi
      local init_log="$PD/log/initdb.log"
      if ! as_pg "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$init_log" 2>&1; then
        print_tail "$init_log"; die "initdb failed"
      fi
    fi
    PG_PORT="$(first_free_port "${PG_PORTS[@]}")" || die "no free port for PostgreSQL among ${PG_PORTS[*]}"
    [ "$PG_PORT" = "${PG_PORTS[0]}" ] || log "port ${PG_PORTS[0]} is taken: PostgreSQL ($PROFILE) uses port $PG_PORT instead"
    touch "$PG_LOG"
    [ "$IS_ROOT" = 1 ] && chown postgres:postgres "$PG_LOG"
    # TCP on loopback only, no Unix socket (so nothing clashes with a system cluster's socket or lock file).
    # Enough connections for parallel tests that each run several services with their own pools.
    local opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=400"
    opts+=" -c shared_buffers=256MB -c log_min_messages=warning -c log_line_prefix='%m [%p] %d '"
    if ! as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -o "$opts" -w -t "$PG_START_TIMEOUT" start >/dev/null 2>"$PD/log/pg_ctl.err"; then
      print_tail "$PD/log/pg_ctl.err" "$PG_LOG"
      die "PostgreSQL ($PROFILE) did not start within ${PG_START_TIMEOUT} s"
    fi
    log "PostgreSQL ($PROFILE) started on 127.0.0.1:$PG_PORT"
  fi
  local deadline=$((SECONDS + PG_START_TIMEOUT))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres; do
    if [ "$SECONDS" -ge "$deadline" ] || [ -z "$(pg_running_pid)" ]; then
      print_tail "$PG_LOG"; die "PostgreSQL ($PROFILE) is not ready on 127.0.0.1:$PG_PORT"
    fi
    sleep 0.2
  done
}

create_databases() {
  local list
  list="$(printf "'%s'," "${DATABASES[@]}")"
  list="${list%,}"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres >/dev/null <<SQL
SELECT format('CREATE DATABASE %I', d)
  FROM unnest(ARRAY[$list]) AS d
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d)
\gexec
SQL
}

stop_postgres() {
  local bin pid
  pid="$(pg_running_pid)"
  if [ -z "$pid" ]; then
    log "PostgreSQL ($PROFILE) is not running"
    return 0
  fi
  bin="/usr/lib/postgresql/$(cat "$PGDATA/PG_VERSION")/bin"
  [ -x "$bin/pg_ctl" ] || bin="$(pg_bindir)"
  if as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1; then
    log "PostgreSQL ($PROFILE) stopped"
  else
    log "pg_ctl stop failed; sending SIGQUIT to $pid"
    kill -QUIT "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# RabbitMQ

rabbit_env() {
  export RABBITMQ_NODENAME="$NODENAME"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RD/mnesia"
  export RABBITMQ_LOG_BASE="$RD/log"
  export RABBITMQ_PID_FILE="$RABBIT_PID_FILE"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RD/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$RD/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$RD/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$RD/rabbitmq-env.conf"
  # Erlang distribution (and epmd, when this node is the one starting it) on loopback only.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1
}

rabbit_running_pid() {
  local pid
  pid="$(read_pid "$RABBIT_PID_FILE")"
  if pid_alive "$pid" && grep -q beam "/proc/$pid/comm" 2>/dev/null; then echo "$pid"; fi
  return 0
}

rabbit_ping() { timeout 30 "$(rabbit_bin rabbitmq-diagnostics)" -q -n "$NODENAME" ping >/dev/null 2>&1; }

start_rabbitmq() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "RabbitMQ is not installed; run: scripts/infra.sh install"
  local pid launcher=""
  pid="$(rabbit_running_pid)"
  if [ -n "$pid" ]; then
    AMQP_PORT="${AMQP_PORT:-${AMQP_PORTS[0]}}" DIST_PORT="${DIST_PORT:-${DIST_PORTS[0]}}"
    log "RabbitMQ ($PROFILE) already running: node $NODENAME, 127.0.0.1:$AMQP_PORT (pid $pid)"
  else
    NODENAME="$PROFILE_NODENAME"
    AMQP_PORT="$(first_free_port "${AMQP_PORTS[@]}")" || die "no free port for RabbitMQ among ${AMQP_PORTS[*]}"
    [ "$AMQP_PORT" = "${AMQP_PORTS[0]}" ] || log "port ${AMQP_PORTS[0]} is taken: RabbitMQ ($PROFILE) uses port $AMQP_PORT instead"
    DIST_PORT="$(first_free_port "${DIST_PORTS[@]}")" || die "no free Erlang distribution port among ${DIST_PORTS[*]}"
    [ "$DIST_PORT" = "${DIST_PORTS[0]}" ] || log "port ${DIST_PORTS[0]} is taken: RabbitMQ ($PROFILE) uses distribution port $DIST_PORT instead"

    mkdir -p "$RD/mnesia" "$RD/log"
    echo '[].' >"$RD/enabled_plugins"            # no plugins (no management UI)
    : >"$RD/rabbitmq-env.conf"                    # ignore /etc/rabbitmq/rabbitmq-env.conf
    cat >"$RD/rabbitmq.conf" <<'CONF'
# Written by scripts/infra.sh on every start; edit the script, not this file.
# The guest user stays loopback-only (the default), which is all local use needs.
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.6
log.console = false
log.file.level = info
CONF
    rm -f "$RABBIT_PID_FILE"
    [ "$IS_ROOT" = 1 ] && chown -R rabbitmq:rabbitmq "$RD"
    : >"$RABBIT_OUT"

    (
      rabbit_env
      # Headroom for tests that open many connections and channels.
      ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
      cd "$RD"
      # `rabbitmq-server -detached` fails silently as root here; the foreground server in its own session works.
      # As root, run the real script as the rabbitmq user directly (the /usr/sbin wrapper would go through
      # su and PAM, losing the file limit); HOME makes it use the same Erlang cookie as rabbitmqctl.
      if [ "$IS_ROOT" = 1 ]; then
        exec setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
          env HOME=/var/lib/rabbitmq USER=rabbitmq LOGNAME=rabbitmq \
          /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >"$RABBIT_OUT" 2>&1
      else
        exec setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >"$RABBIT_OUT" 2>&1
      fi
    ) &
    launcher=$!
    log "RabbitMQ ($PROFILE) starting: node $NODENAME, 127.0.0.1:$AMQP_PORT (log: $RD/log)"
  fi

  # Ready = the AMQP listener accepts connections (opened at the end of boot) and rabbitmqctl reaches the node.
  local deadline=$((SECONDS + RABBIT_START_TIMEOUT))
  while :; do
    if port_busy "$AMQP_PORT" && [ -n "$(rabbit_running_pid)" ] && rabbit_ping; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      print_tail "$RABBIT_OUT" "$RD/log/$NODENAME.log"
      die "RabbitMQ ($PROFILE) is not ready after ${RABBIT_START_TIMEOUT} s"
    fi
    # The launched process (the server script, parent of the Erlang VM) lives as long as the server does.
    if [ -n "$launcher" ] && ! pid_alive "$launcher"; then
      print_tail "$RABBIT_OUT" "$RD/log/$NODENAME.log"
      die "RabbitMQ ($PROFILE) exited during start"
    fi
    sleep 0.5
  done
  log "RabbitMQ ($PROFILE) ready"
}

stop_rabbitmq() {
  local pid
  pid="$(rabbit_running_pid)"
  if [ -z "$pid" ]; then
    log "RabbitMQ ($PROFILE) is not running"
    return 0
  fi
  if ! timeout 90 "$(rabbit_bin rabbitmqctl)" -q -n "$NODENAME" stop >/dev/null 2>&1; then
    log "rabbitmqctl stop failed; sending SIGTERM to $pid"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for _ in $(seq 1 150); do
    pid_alive "$pid" || break
    sleep 0.2
  done
  if pid_alive "$pid"; then
    log "RabbitMQ ($PROFILE) still running after 30 s; sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RABBIT_PID_FILE"
  log "RabbitMQ ($PROFILE) stopped"
}

# ---------------------------------------------------------------------------------------------------------------
# mail catcher (dev)

mail_python() {
  # The Debian interpreter sees the Debian python3-aiosmtpd package; a pyenv/venv python3 on PATH may not.
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import aiosmtpd' 2>/dev/null; then echo "$py"; return 0; fi
  done
  die "python3 with aiosmtpd not found; run: scripts/infra.sh install"
}

start_mail() {
  local pid py
  pid="$(read_pid "$MAIL_PID_FILE")"
  if pid_alive "$pid" && grep -q mailcatcher "/proc/$pid/cmdline" 2>/dev/null; then
    log "mail catcher ($PROFILE) already running on 127.0.0.1:$SMTP_PORT (pid $pid)"
    return 0
  fi
  py="$(mail_python)"
  SMTP_PORT="$(first_free_port "${SMTP_PORTS[@]}")" || die "no free port for the mail catcher among ${SMTP_PORTS[*]}"
  [ "$SMTP_PORT" = "${SMTP_PORTS[0]}" ] || log "port ${SMTP_PORTS[0]} is taken: the mail catcher uses port $SMTP_PORT instead"
  mkdir -p "$MAIL_DIR"
  rm -f "$MAIL_PID_FILE"
  : >"$MAIL_LOG"
  setsid "$py" "$ROOT/deploy/local/mailcatcher.py" --host 127.0.0.1 --port "$SMTP_PORT" --dir "$MAIL_DIR" \
    --pid-file "$MAIL_PID_FILE" </dev/null >>"$MAIL_LOG" 2>&1 &
  local launched=$! deadline=$((SECONDS + MAIL_START_TIMEOUT))
  until grep -q '^READY ' "$MAIL_LOG" 2>/dev/null; do
    if ! pid_alive "$launched" || [ "$SECONDS" -ge "$deadline" ]; then
      print_tail "$MAIL_LOG"; die "the mail catcher did not start"
    fi
    sleep 0.1
  done
  log "mail catcher ($PROFILE) started on 127.0.0.1:$SMTP_PORT, storing into $MAIL_DIR"
}

stop_mail() {
  local pid
  pid="$(read_pid "$MAIL_PID_FILE")"
  if ! pid_alive "$pid" || ! grep -q mailcatcher "/proc/$pid/cmdline" 2>/dev/null; then
    rm -f "$MAIL_PID_FILE"
    log "mail catcher ($PROFILE) is not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$MAIL_PID_FILE"
  log "mail catcher ($PROFILE) stopped"
}

# ---------------------------------------------------------------------------------------------------------------
# commands

cmd_start() {
  load_profile "${1:-}"
  local started=$SECONDS
  prepare_dirs
  start_postgres
  start_rabbitmq
  if [ "$PROFILE" = dev ]; then
    create_databases
    start_mail
  fi
  write_ports_file
  log "$PROFILE infrastructure ready in $((SECONDS - started)) s: PostgreSQL 127.0.0.1:$PG_PORT, RabbitMQ 127.0.0.1:$AMQP_PORT (node $NODENAME)${SMTP_PORT:+, SMTP 127.0.0.1:$SMTP_PORT}"
}

cmd_stop() {
  load_profile "${1:-}"
  [ -d "$PD" ] || { log "nothing to stop for $PROFILE"; return 0; }
  [ "$PROFILE" = dev ] && stop_mail
  stop_rabbitmq
  stop_postgres
}

cmd_env() {
  load_profile "${1:-}"
  if [ ! -f "$PORTS_FILE" ]; then
    log "warning: $PROFILE infrastructure never started; printing the default ports (run: scripts/infra.sh start $PROFILE)"
  fi
  local pg="${PG_PORT:-${PG_PORTS[0]}}" amqp="${AMQP_PORT:-${AMQP_PORTS[0]}}"
  case "$PROFILE" in
    dev)
      local smtp="${SMTP_PORT:-${SMTP_PORTS[0]}}"
      echo "export DEV_DATABASE_BASE_URL='postgres://postgres@127.0.0.1:$pg'"
      echo "export DEV_AMQP_URL='amqp://guest:guest@127.0.0.1:$amqp/%2f'"
      echo "export DEV_SMTP_HOST='127.0.0.1'"
      echo "export DEV_SMTP_PORT='$smtp'"
      echo "export DEV_RABBITMQ_NODENAME='$NODENAME'"
      ;;
    test)
      echo "export TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$pg/postgres'"
      echo "export TEST_AMQP_URL='amqp://guest:guest@127.0.0.1:$amqp/%2f'"
      # As root, `rabbitmqctl -n "$TEST_RABBITMQ_NODENAME" ...` works as is: the Debian wrapper runs it as the
      # rabbitmq user, whose Erlang cookie the node uses. No other RABBITMQ_* variable is needed.
      echo "export TEST_RABBITMQ_NODENAME='$NODENAME'"
      ;;
  esac
}

cmd_status() {
  local profiles=("$@") p
  [ "${#profiles[@]}" -gt 0 ] || profiles=(dev test)
  for p in "${profiles[@]}"; do
    load_profile "$p"
    status_line "$p" postgresql "$(pg_running_pid)" "127.0.0.1:$PG_PORT"
    status_line "$p" rabbitmq "$(rabbit_running_pid)" "127.0.0.1:$AMQP_PORT node $NODENAME"
    if [ "$p" = dev ]; then
      local pid
      pid="$(read_pid "$MAIL_PID_FILE")"
      pid_alive "$pid" || pid=""
      status_line "$p" mailcatcher "$pid" "127.0.0.1:$SMTP_PORT"
    fi
  done
}

status_line() {
  if [ -n "$3" ]; then
    printf '%-5s %-12s running  pid %-7s %s\n' "$1" "$2" "$3" "$4"
  else
    printf '%-5s %-12s stopped\n' "$1" "$2"
  fi
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    install) cmd_install ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    env) cmd_env "$@" ;;
    status) cmd_status "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
