"""`make drill`: every fault drill, each in a process (and a PostgreSQL cluster) of its own.
Exits non-zero when any drill finds a promise broken, or does not finish in its time."""

import subprocess
import sys
import time

from bench.server import ROOT, VENV

DRILLS = ("db_restart", "mail_outage", "disk_full")
TIMEOUT_S = 180


def main() -> int:
    started, failed = time.monotonic(), []
    for name in DRILLS:
        print(flush=True)
        try:
            code = subprocess.run(
                [str(VENV / "python"), "-m", f"bench.drills.{name}"], cwd=ROOT, timeout=TIMEOUT_S
            ).returncode
        except subprocess.TimeoutExpired:
            print(f"{name}: did not finish within {TIMEOUT_S} s", flush=True)
            code = 1
        if code:
            failed.append(name)
    print(
        f"\nDrills: {len(DRILLS) - len(failed)} of {len(DRILLS)} kept every promise "
        f"({time.monotonic() - started:.0f} s)"
        + (f"; failed: {', '.join(failed)}" if failed else ".")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
