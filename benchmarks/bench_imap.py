"""Benchmark: first and no-change sync of a large folder through ImapReader.

Usage: python benchmarks/bench_imap.py [--messages 20000] [--chunk-size 500]

The script starts a private Dovecot on loopback ports with
tests/servers/dovecot.py, so the Debian package dovecot-imapd must be
installed.  It writes the messages straight into the user's Maildir, lets
Dovecot index them with one EXAMINE, and then times:

- the first sync: every header block fetched through ImapReader over TLS,
  reported as headers per second;
- a sync with nothing new: the IMAP commands it sends, LOGOUT included
  (counted from the command log of imaplib and imapclient), and its wall
  time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from connectors.imap import ImapReader  # noqa: E402
from tests.servers.dovecot import DovecotServer, start_dovecot  # noqa: E402

STAFF = "sam.ortiz@brookside-pt.example"


class CommandCounter(logging.Handler):
    """Counts the commands sent, from the "> " lines that imaplib and
    imapclient log at DEBUG level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.commands = 0

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(">"):
            self.commands += 1


def header_block(number: int) -> bytes:
    """Return a realistic header block of about 1.5 KB."""
    practice = f"practice{number % 400}.example"
    relays = "".join(
        f"Received: from relay{hop}.{practice} ([192.0.2.{hop}])\r\n"
        f"\tby mx.brookside-pt.example with ESMTPS id {number:08x}{hop};\r\n"
        f"\tTue, 3 Mar 2026 09:{hop:02d}:00 -0500\r\n"
        for hop in range(4)
    )
    return (
        f"{relays}"
        f"From: Dr. Ana Diaz {number} <ana{number % 900}@{practice}>\r\n"
        f"To: Sam Ortiz <{STAFF}>\r\n"
        f"Cc: Front Desk <frontdesk@{practice}>\r\n"
        f"Date: Tue, 3 Mar 2026 09:15:{number % 60:02d} -0500\r\n"
        f"Subject: Referral for patient {number}: lumbar strain, PT eval\r\n"
        f"Message-ID: <bench{number}@{practice}>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; d={practice}; s=mail; "
        f"bh={'A' * 44}; b={'B' * 172}\r\n"
        "\r\n"
    ).encode()


def write_maildir(server: DovecotServer, user: str, count: int) -> float:
    """Write `count` messages into the user's Maildir; return the seconds."""
    started = time.perf_counter()
    home = server.directory / "home" / user
    maildir = server.maildir(user)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    base = int(time.time()) - count
    for number in range(count):
        name = f"{base + number}.M{number}P1.bench:2,"
        body = b"Letter about the patient.\r\n" * 20
        (maildir / "cur" / name).write_bytes(header_block(number) + body)
    server.give_to_server(home)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=20_000, help="messages written to the folder"
    )
    parser.add_argument(
        "--chunk-size", type=int, default=500, help="UIDs per UID FETCH"
    )
    args = parser.parse_args()
    logging.getLogger("connectors").setLevel(logging.WARNING)

    with start_dovecot("bench") as server:
        user, password = server.add_user()
        seeding = write_maildir(server, user, args.messages)
        with server.client(user, password) as client:
            started = time.perf_counter()
            exists = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
            indexing = time.perf_counter() - started
        config = server.config(
            user, password, folders=("INBOX",), chunk_size=args.chunk_size
        )

        reader = ImapReader(config)
        started = time.perf_counter()
        fetched = sum(1 for _ in reader.read(None))
        first_sync = time.perf_counter() - started
        cursor = reader.final_cursor

        counter = CommandCounter()
        command_log = logging.getLogger("imapclient")
        command_log.addHandler(counter)
        command_log.setLevel(logging.DEBUG)
        command_log.propagate = False
        started = time.perf_counter()
        again = list(reader.read(cursor))
        no_change = time.perf_counter() - started
        command_log.removeHandler(counter)

    print(f"messages in folder       {exists:,}")
    print(f"Maildir written in       {seeding:.2f} s")
    print(f"Dovecot indexing (EXAMINE) {indexing:.2f} s")
    print(f"first sync               {fetched:,} items in {first_sync:.2f} s")
    print(f"headers fetched per s    {args.messages / first_sync:,.0f}")
    print(f"cursor size              {len(cursor or ''):,} bytes")
    print(f"no-change sync           {len(again)} items, {no_change * 1000:.0f} ms")
    print(f"no-change commands sent  {counter.commands}")
    print(f"commands the reader made {', '.join(reader.commands)}")


if __name__ == "__main__":
    main()
