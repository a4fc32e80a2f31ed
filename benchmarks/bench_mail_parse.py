"""Measure e-mail header parsing and mbox reading speed.

Run from the repository root:
    python benchmarks/bench_mail_parse.py [seconds]

Prints messages per second for parse_message on a typical 30-line Gmail
header block, on the real-world .eml files in tests/data/mail, and for
MboxReader over a generated 20,000-message file.
"""

from __future__ import annotations

import datetime as dt
import glob
import sys
import tempfile
import time
from pathlib import Path

from connectors.errors import MalformedData
from connectors.files.mbox import MboxReader
from connectors.mail import parse_message

REALWORLD = str(Path(__file__).parents[1] / "tests" / "data" / "mail")
TYPICAL = (
    b"Delivered-To: sam.ortiz@brookside-pt.example\r\n"
    b"Received: by 2002:a05:6a10:8c0d:0:0:0:0 with SMTP id n13csp1234567pxb;\r\n"
    b"        Thu, 5 Mar 2026 08:40:01 -0800 (PST)\r\n"
    b"X-Google-Smtp-Source: AGHT+IFabcdefghijklmnopqrstuvwxyz0123456789\r\n"
    b"X-Received: by 2002:a17:90a:1234:b0:2c9:1234:abcd with SMTP id x1-2002;\r\n"
    b"        Thu, 05 Mar 2026 08:40:01 -0800 (PST)\r\n"
    b"ARC-Seal: i=1; a=rsa-sha256; t=1709656801; cv=none; d=google.com;\r\n"
    b"        b=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
    b"Return-Path: <ana.diaz@lakeside-fm.example>\r\n"
    b"Received: from mail.lakeside-fm.example (mail.lakeside-fm.example.)\r\n"
    b"        by mx.google.com with ESMTPS id a1-20020a170902\r\n"
    b"        for <sam.ortiz@brookside-pt.example>; Thu, 05 Mar 2026 08:40:00 -0800\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=lakeside-fm.example;\r\n"
    b"        h=from:to:cc:subject:date:message-id:in-reply-to:references;\r\n"
    b"        bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=abcdefghijklmnop\r\n"
    b"MIME-Version: 1.0\r\n"
    b"From: Ana Diaz <ana.diaz@lakeside-fm.example>\r\n"
    b"Date: Thu, 5 Mar 2026 11:40:00 -0500\r\n"
    b"Message-ID: <CAF=abc123def456@mail.lakeside-fm.example>\r\n"
    b"In-Reply-To: <CAB=prev789@mail.brookside-pt.example>\r\n"
    b"References: <CAA=first111@mail.lakeside-fm.example>\r\n"
    b" <CAB=prev789@mail.brookside-pt.example>\r\n"
    b"Subject: Re: New referral for Mr. Nakamura\r\n"
    b'To: "Sam Ortiz" <sam.ortiz@brookside-pt.example>\r\n'
    b'Cc: Front Desk <frontdesk@lakeside-fm.example>, "Lopez, Maria" '
    b"<mlopez@lakeside-fm.example>\r\n"
    b'Content-Type: multipart/alternative; boundary="000000000000abcdef"\r\n'
    b"\r\n"
    b"--000000000000abcdef\r\n"
    b'Content-Type: text/plain; charset="UTF-8"\r\n\r\n'
    + b"Thanks, we will call the patient today.\r\n" * 40
)


def bench_parse(label: str, messages: list[bytes], seconds: float) -> None:
    server_time = dt.datetime(2026, 3, 6, tzinfo=dt.UTC)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for raw in messages:
            try:
                parse_message(raw, provider_key="k", server_time=server_time)
            except MalformedData:
                pass
            count += 1
    elapsed = time.perf_counter() - start
    print(f"parse_message, {label}: {count / elapsed:,.0f} messages/s")


def bench_mbox() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.mbox"
        lf = TYPICAL.replace(b"\r\n", b"\n")
        with path.open("wb") as stream:
            for number in range(20_000):
                stream.write(b"From a@x.example Thu Mar 05 16:40:00 2026\n")
                stream.write(lf.replace(b"abc123def456", b"m%d" % number) + b"\n")
        start = time.perf_counter()
        count = sum(1 for _ in MboxReader(path).read(None))
        elapsed = time.perf_counter() - start
        megabytes = path.stat().st_size / 1e6
        print(
            f"MboxReader: {count / elapsed:,.0f} messages/s, "
            f"{megabytes / elapsed:,.0f} MB/s ({count:,} messages, {megabytes:.0f} MB)"
        )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    realworld = [
        Path(name).read_bytes()
        for name in sorted(glob.glob(f"{REALWORLD}/*.eml"))
        if "many_recipients" not in name
    ]
    bench_parse("typical Gmail header", [TYPICAL], seconds)
    bench_parse("real-world .eml files", realworld, seconds)
    bench_mbox()


if __name__ == "__main__":
    main()
