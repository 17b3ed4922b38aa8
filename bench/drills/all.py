"""`make drill`: every fault drill, each in a process (and a PostgreSQL cluster) of its own.
Exits non-zero when any drill finds a promise broken, or does not finish in its time."""

import signal
import subprocess
import sys
import time

from bench.server import ROOT, VENV

DRILLS = (
    "db_restart",
    "mail_outage",
    "redis_outage",
    "worker_killed",
    "app_server_killed",
    "replica_lag",
    "disk_full",
)
TIMEOUT_S = 240
CLEANUP_S = 60  # after an interrupt, for a drill to stop its servers and remove its cluster


def run_drill(name: str) -> int:
    drill = subprocess.Popen([str(VENV / "python"), "-m", f"bench.drills.{name}"], cwd=ROOT)
    try:
        return drill.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"{name}: did not finish within {TIMEOUT_S} s", flush=True)
        # An interrupt, not a kill: the drill's `with` blocks stop what it started.
        drill.send_signal(signal.SIGINT)
        try:
            drill.wait(timeout=CLEANUP_S)
        except subprocess.TimeoutExpired:
            drill.kill()
            drill.wait()
        return 1


def main() -> int:
    started, failed = time.monotonic(), []
    for name in DRILLS:
        print(flush=True)
        if run_drill(name):
            failed.append(name)
    print(
        f"\nDrills: {len(DRILLS) - len(failed)} of {len(DRILLS)} kept every promise "
        f"({time.monotonic() - started:.0f} s)"
        + (f"; failed: {', '.join(failed)}" if failed else ".")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
