"""Runs a Python script as __main__ and, at exit, writes this process's peak
resident set size (KiB, getrusage) to the file named by BENCH_RSS_FILE: the
counterpart of scripts/rss-probe.ts for the Python reference."""

import atexit
import os
import resource
import runpy
import sys


def _write_peak():
    target = os.environ.get("BENCH_RSS_FILE")
    if target:
        with open(target, "w") as f:
            f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


atexit.register(_write_peak)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
