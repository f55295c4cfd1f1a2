#!/usr/bin/env python3
"""Time --check, start-up and reload of a large generated configuration.

Not part of the test suite.  Usage:

    tests/perf/time_big_config.py BINARY [-n 5000]

Start-up is the time from exec to the second "Accepting connections" log
record (both services listen); reload is the time from SIGUSR1 to the
next two.  The main loop looks at the reload flag every 100 ms, so a
reload figure includes up to 100 ms of waiting for that tick.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def count_accepting(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().count("Accepting connections")
    except OSError:
        return 0


def wait_count(path, n, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if count_accepting(path) >= n:
            return time.monotonic()
        time.sleep(0.002)
    sys.exit("timed out waiting for %d listener records in %s" % (n, path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("-p", type=int, default=31280)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "big.cfg")
        log = os.path.join(d, "big.log")
        with open(cfg, "w") as f:
            subprocess.run([sys.executable,
                            os.path.join(HERE, "gen_big_config.py"),
                            "-n", str(a.n), "-p", str(a.p), "--log", log],
                           stdout=f, check=True)
        lines = sum(1 for _ in open(cfg))
        t0 = time.monotonic()
        r = subprocess.run([a.binary, "--check", cfg],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t1 = time.monotonic()
        if r.returncode != 0:
            sys.exit("--check failed: " + r.stderr.decode()[-300:])
        print("lines %d  --check %.3f s" % (lines, t1 - t0))
        t0 = time.monotonic()
        px = subprocess.Popen([a.binary, cfg], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            t1 = wait_count(log, 2, 30)
            print("start-up %.3f s" % (t1 - t0))
            for i in range(3):
                t0 = time.monotonic()
                px.send_signal(signal.SIGUSR1)
                t1 = wait_count(log, 4 + 2 * i, 30)
                print("reload %.3f s" % (t1 - t0))
        finally:
            px.send_signal(signal.SIGTERM)
            try:
                px.wait(timeout=10)
            except subprocess.TimeoutExpired:
                px.kill()
                px.wait()


if __name__ == "__main__":
    main()
