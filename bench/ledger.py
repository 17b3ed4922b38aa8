"""`make bench`: what the public ledger costs pledges (docs/ledger.md). Target: ≥ 0.8.

20 donors pledge at once, each on a connection of their own, through donations.services.pledge:
first each on a need of their own, then all on the same need (where the need's row lock already
queues them). Accepted pledges per second with the ledger, then without it (KSBB_LEDGER off), in
the same run and database; the ratio with / without is the figure. Then the sealer's own rate:
how fast the worker chains what those pledges wrote.
"""

import datetime
import os
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connections  # noqa: E402

from bench.database import in_bench_database  # noqa: E402
from donations import services  # noqa: E402
from donations.models import Collaborator  # noqa: E402
from ledger import services as ledger_services  # noqa: E402
from ledger.models import Entry, Event  # noqa: E402
from locations.models import Region, Site  # noqa: E402
from locations.registry import load_regions  # noqa: E402
from needs import services as needs_services  # noqa: E402
from needs.models import AidType  # noqa: E402

DONORS = int(os.environ.get("KSBB_BENCH_LEDGER_DONORS", 20))
PLEDGES_EACH = int(os.environ.get("KSBB_BENCH_LEDGER_PLEDGES", 40))
TARGET = 0.8


def _needs(count: int, quantity: int) -> list:
    kelurahan = Region.objects.kelurahan().first()
    site, _ = Site.objects.get_or_create(
        kelurahan=kelurahan,
        kind=Site.Kind.RW,
        name="RW bench",
        defaults={"point": Point(106.8225, -6.1760, srid=4326)},
    )
    aid_type = AidType.objects.first()
    return [
        needs_services.create(
            site=site,
            aid_type=aid_type,
            title=f"Bench {i}",
            quantity_needed=quantity,
            beneficiaries=1,
            period_start=datetime.date(2020, 10, 1),
        )
        for i in range(count)
    ]


def _donors(count: int) -> list[Collaborator]:
    start = Collaborator.objects.count()
    return Collaborator.objects.bulk_create(
        Collaborator(
            public_name=f"Bench {start + i}", kind="company", email=f"b{start + i}@bench.test"
        )
        for i in range(count)
    )


def pledges_per_second(*, same_need: bool, donors: int, each: int) -> float:
    """Accepted pledges per second, `donors` threads pledging `each` times at once."""
    targets = _needs(1 if same_need else donors, quantity=donors * each * 2)
    people = _donors(donors)
    start, accepted = threading.Barrier(donors + 1), []

    def donate(i: int) -> None:
        need, donor, done = targets[0 if same_need else i], people[i], 0
        try:
            start.wait()
            for _ in range(each):
                services.pledge(need=need, collaborator=donor, quantity=1)
                done += 1
        finally:
            accepted.append(done)
            connections.close_all()

    threads = [threading.Thread(target=donate, args=(i,)) for i in range(donors)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return sum(accepted) / (time.perf_counter() - began)


def run(donors: int = DONORS, each: int = PLEDGES_EACH) -> int:
    """Measure and print; 0 when the ratio meets the target, 1 when not (the suite runs it tiny:
    tests/test_benchmarks.py)."""
    if not Region.objects.exists():
        load_regions()
    print(f"Pledges with and without the public ledger, {donors} donors at once, {each} each:")
    worst = None
    for label, same in (("different needs", False), ("the same need", True)):
        rates = {}
        for ledger_on in (False, True, False, True):  # interleaved: no drift favours one side
            settings.KSBB_LEDGER = ledger_on
            rates.setdefault(ledger_on, []).append(
                pledges_per_second(same_need=same, donors=donors, each=each)
            )
        without, with_ledger = max(rates[False]), max(rates[True])
        ratio = with_ledger / without
        worst = ratio if worst is None else min(worst, ratio)
        print(
            f"  {label:16} without {without:7.1f}/s   with {with_ledger:7.1f}/s   "
            f"ratio {ratio:4.2f} (target ≥ {TARGET})"
        )
    settings.KSBB_LEDGER = True
    waiting = Event.objects.count()
    began = time.perf_counter()
    sealed = ledger_services.seal()
    seconds = time.perf_counter() - began
    print(
        f"  sealer: {sealed:,} events chained in {seconds:.2f} s "
        f"({sealed / max(seconds, 1e-9):,.0f}/s); {waiting:,} were waiting"
    )
    assert sealed == waiting and not Event.objects.exists()
    assert Entry.objects.count() >= sealed
    return 0 if worst >= TARGET else 1


def main() -> int:
    return in_bench_database(run)


if __name__ == "__main__":
    sys.exit(main())
