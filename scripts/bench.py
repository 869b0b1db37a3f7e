"""`make bench`: every benchmark, each in its own process (each sets up its own emulated AWS).

Speed and cost targets live here and in deterministic request-count tests, never in timed
tests: the machines are shared and noisy, so read the numbers as relative, not absolute.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("bench_sms.py", "bench_sweep.py", "bench_requests.py", "bench_cold_start.py")


def main() -> int:
    status = 0
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n== {name.removesuffix('.py')} ==", flush=True)
        status |= subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
    return status


if __name__ == "__main__":
    sys.exit(main())
