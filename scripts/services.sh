#!/usr/bin/env bash
# Runs the five services and the staff console locally in the background against the dev infrastructure (scripts/infra.sh).
#
#   scripts/services.sh up       start dev infra if needed, build once (cargo build --release --bins), start every
#                                service that is not running, wait until each /health/ready answers 200, write the
#                                dev admin token to .data/admin-token and print the URLs. Safe to run twice.
#   scripts/services.sh down     stop the services (SIGTERM, SIGKILL after 15 s), then the dev infrastructure
#   scripts/services.sh status   what runs, and whether it is ready
#   scripts/services.sh logs [SERVICE]   follow the logs
#
# Pid files: .data/dev/run/<service>.pid; logs: .data/dev/log/<service>.log.
# Each service runs with its working directory services/<service> (so a relative `config/` is found there).
# Environment knobs: APP_ENV (default development), RUST_LOG (default info), SERVICES_READY_TIMEOUT (120),
# SERVICES_NO_BUILD=1 (use the binaries already in target/release).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
INFRA="$ROOT/scripts/infra.sh"
SERVICES=(intake triage notification reporting scheduler console)
declare -A HTTP_PORT=([intake]=8081 [triage]=8082 [notification]=8083 [reporting]=8084 [scheduler]=8085 [console]=8080)

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BIN_DIR="$TARGET_DIR/release"
PD="$ROOT/.data/dev"
RUN_DIR="$PD/run"
LOG_DIR="$PD/log"
TOKEN_FILE="$ROOT/.data/admin-token"
READY_TIMEOUT="${SERVICES_READY_TIMEOUT:-120}"
STOP_TIMEOUT=15

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

pid_alive() {
  local st
  [ -n "${1:-}" ] || return 1
  st="$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The pid of the running service $1, or nothing. The pid must still be that service's binary (pids get reused).
service_pid() {
  local svc=$1 pid
  pid="$( [ -s "$RUN_DIR/$svc.pid" ] && tr -dc '0-9' <"$RUN_DIR/$svc.pid" || true)"
  pid_alive "$pid" || return 0
  # (the first argument for a binary; the second when an interpreter runs a script)
  if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 2 | grep -qxF "$BIN_DIR/$svc"; then echo "$pid"; fi
  return 0
}

port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

http_code() {
  curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 3 "$1" 2>/dev/null || true
}

print_tail() {
  local f=$1
  [ -f "$f" ] || return 0
  printf -- '----- last lines of %s -----\n' "$f" >&2
  tail -n 40 "$f" >&2 || true
}

load_infra_env() {
  eval "$(bash "$INFRA" env dev 2>/dev/null)"
  : "${DEV_DATABASE_BASE_URL:?}" "${DEV_AMQP_URL:?}" "${DEV_SMTP_PORT:?}"
}

# The environment a service (or `triage admin-token`) runs with, as NAME=VALUE words for env(1).
service_env() {
  local svc=$1
  echo "APP_ENV=${APP_ENV:-development}"
  echo "RUST_LOG=${RUST_LOG:-info}"
  echo "APP__HTTP__HOST=127.0.0.1"
  echo "APP__HTTP__PORT=${HTTP_PORT[$svc]}"
  # The console has no database or broker: it calls the services' HTTP APIs (its config/default.toml).
  [ "$svc" = console ] && return 0
  echo "APP__DATABASE__URL=$DEV_DATABASE_BASE_URL/$svc"
  echo "APP__BUS__URL=$DEV_AMQP_URL"
  if [ "$svc" = notification ]; then
    echo "APP__SMTP__HOST=${DEV_SMTP_HOST:-127.0.0.1}"
    echo "APP__SMTP__PORT=$DEV_SMTP_PORT"
  fi
}

service_workdir() {
  if [ -d "$ROOT/services/$1" ]; then echo "$ROOT/services/$1"; else echo "$ROOT"; fi
}

start_service() {
  local svc=$1
  local logf="$LOG_DIR/$svc.log" envs=()
  mapfile -t envs < <(service_env "$svc")
  [ -x "$BIN_DIR/$svc" ] || die "$BIN_DIR/$svc not found (did the build succeed?)"
  if port_busy "${HTTP_PORT[$svc]}"; then
    die "port ${HTTP_PORT[$svc]} (for $svc) is already in use by another process"
  fi
  printf '===== %s: starting %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$svc" >>"$logf"
  (
    cd "$(service_workdir "$svc")"
    exec setsid env "${envs[@]}" "$BIN_DIR/$svc" </dev/null >>"$logf" 2>&1
  ) &
  echo "$!" >"$RUN_DIR/$svc.pid"
  log "started $svc on 127.0.0.1:${HTTP_PORT[$svc]} (pid $!, log $logf)"
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) pending=("$@") still svc code
  while [ "${#pending[@]}" -gt 0 ]; do
    still=()
    for svc in "${pending[@]}"; do
      if [ -z "$(service_pid "$svc")" ]; then
        print_tail "$LOG_DIR/$svc.log"
        die "$svc exited during start (log: $LOG_DIR/$svc.log)"
      fi
      code="$(http_code "http://127.0.0.1:${HTTP_PORT[$svc]}/health/ready")"
      [ "$code" = 200 ] || still+=("$svc")
    done
    pending=("${still[@]+"${still[@]}"}")
    [ "${#pending[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for svc in "${pending[@]}"; do print_tail "$LOG_DIR/$svc.log"; done
      die "not ready after ${READY_TIMEOUT} s: ${pending[*]} (GET /health/ready did not answer 200)"
    fi
    sleep 0.5
  done
}

write_admin_token() {
  local envs=() out token
  mapfile -t envs < <(service_env triage)
  # Only the token is wanted on stdout; keep logging quiet and take the last non-empty line.
  if ! out="$(cd "$(service_workdir triage)" && env "${envs[@]}" RUST_LOG=warn "$BIN_DIR/triage" admin-token 2>>"$LOG_DIR/admin-token.err")"; then
    print_tail "$LOG_DIR/admin-token.err"
    die "'triage admin-token' failed"
  fi
  token="$(printf '%s\n' "$out" | sed '/^[[:space:]]*$/d' | tail -n 1 | tr -d '[:space:]')"
  [ -n "$token" ] || die "'triage admin-token' printed nothing"
  (umask 077 && printf '%s\n' "$token" >"$TOKEN_FILE.tmp")
  mv -f "$TOKEN_FILE.tmp" "$TOKEN_FILE"
  ADMIN_TOKEN="$token"
}

print_summary() {
  local svc p
  echo
  printf '%-13s %-24s %-47s %s\n' SERVICE URL OPENAPI METRICS
  for svc in "${SERVICES[@]}"; do
    [ "$svc" = console ] && continue
    p="${HTTP_PORT[$svc]}"
    printf '%-13s %-24s %-47s %s\n' "$svc" "http://127.0.0.1:$p" "http://127.0.0.1:$p/api/v1/openapi.json" \
      "http://127.0.0.1:$p/metrics"
  done
  echo
  echo "Staff console: http://127.0.0.1:${HTTP_PORT[console]}/   (sign in as admin / change-me-admin in development)"
  echo "Register:      curl -XPOST http://127.0.0.1:${HTTP_PORT[intake]}/api/v1/feedback -H 'content-type: application/json' -d '{\"channel\":\"api\",\"site\":\"sh01\",\"customer\":{\"phone\":\"13800000000\"},\"content\":\"…\"}'"
  echo "PostgreSQL:    $DEV_DATABASE_BASE_URL/<service>   (databases: ${SERVICES[*]/console})"
  echo "RabbitMQ:      $DEV_AMQP_URL   (node ${DEV_RABBITMQ_NODENAME:-feedback@localhost})"
  echo "Mail catcher:  SMTP ${DEV_SMTP_HOST:-127.0.0.1}:$DEV_SMTP_PORT, messages in .data/dev/mail/"
  echo "Logs:          .data/dev/log/<service>.log"
  echo "Admin token:   $ADMIN_TOKEN"
  echo "               (also in .data/admin-token: curl -H \"Authorization: Bearer \$(cat .data/admin-token)\" ...)"
}

cmd_up() {
  command -v curl >/dev/null 2>&1 || die "curl is missing; run: scripts/infra.sh install"
  bash "$INFRA" start dev
  load_infra_env
  mkdir -p "$RUN_DIR" "$LOG_DIR"

  local svc to_start=() running=()
  for svc in "${SERVICES[@]}"; do
    if [ -n "$(service_pid "$svc")" ]; then running+=("$svc"); else to_start+=("$svc"); fi
  done
  if [ "${#running[@]}" -gt 0 ]; then
    log "already running (left alone): ${running[*]}"
  fi

  if [ "${#to_start[@]}" -gt 0 ]; then
    if [ "${SERVICES_NO_BUILD:-0}" != 1 ]; then
      command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust from https://rustup.rs)"
      log "building: cargo build --release --bins"
      (cd "$ROOT" && cargo build --release --bins) || die "the build failed"
    fi
    for svc in "${to_start[@]}"; do start_service "$svc"; done
  fi

  log "waiting for /health/ready (up to ${READY_TIMEOUT} s)"
  wait_ready "${SERVICES[@]}"
  write_admin_token
  print_summary
}

cmd_down() {
  local svc pid pids=() names=() i
  for svc in "${SERVICES[@]}"; do
    pid="$(service_pid "$svc")"
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$svc")
    fi
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    log "stopping: ${names[*]}"
    local deadline=$((SECONDS + STOP_TIMEOUT)) left
    while :; do
      left=0
      for pid in "${pids[@]}"; do pid_alive "$pid" && left=1; done
      [ "$left" = 0 ] && break
      [ "$SECONDS" -ge "$deadline" ] && break
      sleep 0.2
    done
    for i in "${!pids[@]}"; do
      if pid_alive "${pids[$i]}"; then
        log "${names[$i]} did not stop within ${STOP_TIMEOUT} s: SIGKILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      fi
    done
  else
    log "no service is running"
  fi
  for svc in "${SERVICES[@]}"; do rm -f "$RUN_DIR/$svc.pid"; done
  bash "$INFRA" stop dev
}

cmd_status() {
  local svc pid code
  printf '%-13s %-8s %-8s %-24s %s\n' SERVICE STATE PID URL READY
  for svc in "${SERVICES[@]}"; do
    pid="$(service_pid "$svc")"
    if [ -n "$pid" ]; then
      code="$(http_code "http://127.0.0.1:${HTTP_PORT[$svc]}/health/ready")"
      printf '%-13s %-8s %-8s %-24s %s\n' "$svc" running "$pid" "http://127.0.0.1:${HTTP_PORT[$svc]}" "${code:-none}"
    else
      printf '%-13s %-8s\n' "$svc" stopped
    fi
  done
  echo
  bash "$INFRA" status dev
}

cmd_logs() {
  local files=() svc
  if [ $# -gt 0 ]; then
    for svc in "$@"; do files+=("$LOG_DIR/$svc.log"); done
  else
    for svc in "${SERVICES[@]}"; do files+=("$LOG_DIR/$svc.log"); done
  fi
  exec tail -n 50 -F "${files[@]}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
