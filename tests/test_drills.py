"""The fault drills (`make drill`, bench/drills/) run under load with servers of their own, minutes
each, so the suite does not run them all; it runs the one that needs no load, whole, so a change
that breaks a drill's own checks is caught here rather than on the next `make drill` (the disk-full
drill once kept comparing a stored photo's bytes long after photos were stored re-encoded)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_disk_full_drill_keeps_its_promises():
    done = subprocess.run(
        [sys.executable, "-m", "bench.drills.disk_full"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-3000:]
    assert "Disk full drill: every promise kept." in report
    assert report.count("[ok]") == 3
