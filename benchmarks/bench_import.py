"""Benchmark: import generated mbox files end to end and print speed and memory.

Usage: python benchmarks/bench_import.py [--sizes 10000,25000,50000] [--sources 1000]

For each size it generates a Takeout-style mbox and a sources CSV with
benchmarks/generate.py, then runs the real command line in a fresh process
on a fresh SQLite database: staff add, sources import, accounts add, sync.
It prints the sync's messages per second and the peak resident memory of
that process, so a memory that stays flat as the file grows is visible.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
STAFF = "sam.ortiz@brookside-pt.example"


def run(args: list[str], env: dict[str, str]) -> float:
    """Run a warmline command in a new process; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "warmline.cli", *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def peak_rss_mib_of(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command in a child; return (seconds, the child's peak RSS in MiB)."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: replace itself with the command
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execve(sys.executable, [sys.executable, "-m", "warmline.cli", *args], env)
    _pid, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"warmline {' '.join(args)} failed with status {status}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def bench(size: int, sources: int, folder: Path) -> tuple[float, float, float]:
    data = folder / f"n{size}"
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), "--messages", str(size),
         "--sources", str(sources), "--out", str(data)],
        check=True,
    )  # fmt: skip
    env = dict(os.environ, WARMLINE_DATABASE_URL=f"sqlite:///{data / 'bench.db'}")
    run(["config", "set", "own_domains", "brookside-pt.example"], env)
    run(["staff", "add", STAFF, "--name", "Sam Ortiz"], env)
    run(["sources", "import", str(data / "sources.csv")], env)
    run(["accounts", "add", "mbox", str(data / "mail.mbox"), "--staff", STAFF], env)
    seconds, peak = peak_rss_mib_of(["sync"], env)
    return seconds, size / seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,25000,50000")
    parser.add_argument("--sources", type=int, default=1000)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, SQLite")
    print(f"{'messages':>9} {'seconds':>8} {'msg/s':>8} {'peak RSS MiB':>13}")
    with tempfile.TemporaryDirectory(prefix="warmline-bench-") as folder:
        for size in sizes:
            seconds, rate, peak = bench(size, options.sources, Path(folder))
            print(f"{size:>9} {seconds:>8.1f} {rate:>8.0f} {peak:>13.1f}")


if __name__ == "__main__":
    main()
