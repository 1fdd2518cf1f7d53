#!/usr/bin/python3
"""A capturing SMTP server for local development and tests (needs aiosmtpd: Debian package python3-aiosmtpd).

    python3 deploy/local/mailcatcher.py --host 127.0.0.1 --port 1025 --dir .data/dev/mail \
        [--fail-first N --fail-code 451] [--reject-rcpt REGEX --reject-code 550] [--delay-ms MS] \
        [--pid-file FILE] [--accept-auth]

Every accepted message is stored in DIR as `<n>-<uuid>.eml`: the raw message bytes as received (after SMTP
dot-unstuffing, lines ending in CRLF), and beside it `<n>-<uuid>.json` with the envelope:
    {"seq": n, "id": uuid, "mail_from": "...", "rcpt_tos": ["..."], "peer": "...", "received_at": "...",
     "size": bytes, "eml": "<n>-<uuid>.eml"}
Both are written atomically (temporary file, then rename); the .json is renamed first, so once an .eml is
visible its .json is too. <n> counts from 1 (continuing after files already in DIR), zero-padded to 6 digits
so that names sort in arrival order.

Failure modes for tests:
  --fail-first N       the first N messages are answered at the end of DATA with --fail-code (default 451,
                       a temporary failure); nothing is stored for them. Later messages are accepted.
  --reject-rcpt REGEX  RCPT TO addresses matching REGEX (Python re.search, case-insensitive; may be repeated)
                       are refused with --reject-code (default 550, permanent).
  --delay-ms MS        sleep MS milliseconds before answering the end of DATA (a slow server).
  --accept-auth        advertise AUTH PLAIN/LOGIN without TLS and accept any credentials.

Once listening it prints `READY <port>` on stdout (flushed); with --port 0 the port is picked by the system.
SIGTERM or SIGINT closes the listener and exits with status 0 (removing the pid file).
If the interpreter running this file has no aiosmtpd (e.g. a pyenv or venv python3 first on PATH), the
script re-executes itself with /usr/bin/python3, which sees the Debian package.
"""

import os
import sys

try:
    import aiosmtpd  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    _SYSTEM_PYTHON = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(_SYSTEM_PYTHON) and os.path.exists(_SYSTEM_PYTHON):
        os.execv(_SYSTEM_PYTHON, [_SYSTEM_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
    sys.stderr.write("mailcatcher: the aiosmtpd module is missing (apt-get install python3-aiosmtpd)\n")
    sys.exit(2)

import argparse
import asyncio
import datetime
import json
import logging
import re
import signal
import uuid

from aiosmtpd.smtp import SMTP, AuthResult

log = logging.getLogger("mailcatcher")

NAME_RE = re.compile(r"^(\d+)-[0-9a-fA-F-]{36}\.eml$")


def write_atomically(path: str, data: bytes) -> None:
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def next_sequence(directory: str) -> int:
    highest = 0
    for name in os.listdir(directory):
        m = NAME_RE.match(name)
        if m:
            highest = max(highest, int(m.group(1)))
    return highest + 1


class CatchingHandler:
    def __init__(self, args: argparse.Namespace) -> None:
        self.directory = args.dir
        self.fail_remaining = args.fail_first
        self.fail_code = args.fail_code
        self.reject_patterns = [re.compile(p, re.IGNORECASE) for p in args.reject_rcpt]
        self.reject_code = args.reject_code
        self.delay = args.delay_ms / 1000.0
        self.seq = next_sequence(self.directory)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for pattern in self.reject_patterns:
            if pattern.search(address):
                log.info("RCPT TO:<%s> refused with %d", address, self.reject_code)
                return f"{self.reject_code} 5.1.1 <{address}>: recipient rejected (mailcatcher --reject-rcpt)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if self.fail_remaining > 0:
            self.fail_remaining -= 1
            log.info("message from <%s> failed with %d (%d more failures to come)",
                     envelope.mail_from, self.fail_code, self.fail_remaining)
            return f"{self.fail_code} 4.3.0 Temporary failure, try again later (mailcatcher --fail-first)"
        seq = self.seq
        self.seq += 1
        ident = str(uuid.uuid4())
        base = f"{seq:06d}-{ident}"
        raw = envelope.original_content or b""
        meta = {
            "seq": seq,
            "id": ident,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "peer": str(session.peer[0]) if session.peer else None,
            "helo": session.host_name,
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "size": len(raw),
            "eml": base + ".eml",
        }
        write_atomically(os.path.join(self.directory, base + ".json"),
                         (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        write_atomically(os.path.join(self.directory, base + ".eml"), raw)
        log.info("stored %s.eml from <%s> to %s (%d bytes)", base, envelope.mail_from, envelope.rcpt_tos, len(raw))
        return f"250 2.0.0 OK: queued as {base}"


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Capturing SMTP server for development and tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1025, help="0 picks a free port (printed in the READY line)")
    p.add_argument("--dir", required=True, help="where messages are stored (created if missing)")
    p.add_argument("--fail-first", type=int, default=0, metavar="N")
    p.add_argument("--fail-code", type=int, default=451)
    p.add_argument("--reject-rcpt", action="append", default=[], metavar="REGEX")
    p.add_argument("--reject-code", type=int, default=550)
    p.add_argument("--delay-ms", type=int, default=0, metavar="MS")
    p.add_argument("--pid-file")
    p.add_argument("--accept-auth", action="store_true")
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    args = p.parse_args(argv)
    if not 400 <= args.fail_code <= 599:
        p.error("--fail-code must be a 4xx or 5xx code")
    if not 400 <= args.reject_code <= 599:
        p.error("--reject-code must be a 4xx or 5xx code")
    return args


async def serve(args) -> None:
    os.makedirs(args.dir, exist_ok=True)
    handler = CatchingHandler(args)
    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(
            handler,
            hostname="mailcatcher.localhost",  # avoids a slow getfqdn() per connection
            enable_SMTPUTF8=True,
            decode_data=False,
            authenticator=accept_any if args.accept_auth else None,
            auth_require_tls=not args.accept_auth,
            loop=loop,
        )

    server = await loop.create_server(factory, host=args.host, port=args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    if args.pid_file:
        write_atomically(args.pid_file, f"{os.getpid()}\n".encode())
    log.info("listening on %s:%d, storing into %s", args.host, port, os.path.abspath(args.dir))
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        server.close()
        try:  # newer Pythons wait for open client connections here; do not hang on them
            await asyncio.wait_for(server.wait_closed(), timeout=2)
        except asyncio.TimeoutError:
            pass
        if args.pid_file:
            try:
                with open(args.pid_file) as f:
                    mine = f.read().strip() == str(os.getpid())
                if mine:
                    os.unlink(args.pid_file)
            except OSError:
                pass
        log.info("stopped")


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s mailcatcher %(levelname)s %(message)s")
    # aiosmtpd logs every command at INFO under "mail.log"; keep our own lines only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args))
    except OSError as e:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
