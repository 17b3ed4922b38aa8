"""`make bench`: import a 100,000-row needs file; rows per second and peak memory.

Writes the CSV to a temporary folder, imports it into a database of its own (ksbb_bench), then
imports it again (every row unchanged). Memory is the process's peak resident size (getrusage)
above what it held before the import, next to the file's size: a streamed import stays flat
whatever the file's length.
"""

import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()


from bench.database import in_bench_database  # noqa: E402
from locations.models import Region  # noqa: E402
from locations.registry import load_regions  # noqa: E402
from needs.imports import COLUMNS, import_needs  # noqa: E402
from needs.models import AidType, Need  # noqa: E402

ROWS = int(os.environ.get("KSBB_BENCH_IMPORT_ROWS", 100_000))


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(2020)
    kelurahan = list(Region.objects.kelurahan().values_list("code", flat=True))
    aid_types = list(AidType.objects.select_related("category"))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i in range(rows):
            aid = rng.choice(aid_types)
            lat, lng = -6.37 + rng.random() * 0.27, 106.70 + rng.random() * 0.28
            writer.writerow(
                [
                    f"BENCH-{i:06d}",
                    rng.choice(kelurahan),
                    "rw",
                    f"RW {i % 30 + 1:02d}",
                    f"{lat:.6f}",
                    f"{lng:.6f}",
                    aid.category.slug,
                    aid.name,
                    "",
                    rng.randint(1, 500),
                    aid.unit,
                    rng.randint(1, 500),
                    "household",
                    "",
                    "2020-10-01",
                    "2020-12-31",
                ]
            )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure(path: Path) -> tuple[float, float, object]:
    before = _peak_rss_mb()
    start = time.perf_counter()
    report = import_needs(path)
    seconds = time.perf_counter() - start
    return seconds, _peak_rss_mb() - before, report


def run(rows: int = ROWS) -> int:
    """Write a file of `rows` needs, import it twice and print the figures, in whatever database is
    set up (the suite runs it at a tiny size: tests/test_benchmarks.py)."""
    load_regions()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "needs.csv"
        write_file(path, rows)
        size = path.stat().st_size / 1e6
        first, first_peak, report = measure(path)
        second, second_peak, again = measure(path)
    counts, counts_again = report.counts, again.counts
    print(f"Import of {rows:,} rows ({size:.1f} MB CSV):")
    print(
        f"  first import   {first:7.1f} s  {rows / first:8,.0f} rows/s  peak +{first_peak:6.1f} MB"
        f"  ({counts['created']:,} created, {counts['refused']:,} refused)"
    )
    print(
        f"  same file      {second:7.1f} s  {rows / second:8,.0f} rows/s  peak +{second_peak:6.1f} MB"
        f"  ({counts_again['unchanged']:,} unchanged)"
    )
    print(f"  peak memory growth / file size  {first_peak / size:5.2f}  (streamed: stays small)")
    assert counts["created"] == rows and counts_again["unchanged"] == rows, (counts, counts_again)
    assert Need.objects.count() == counts["created"]
    return 0


def main() -> int:
    return in_bench_database(run)


if __name__ == "__main__":
    sys.exit(main())
