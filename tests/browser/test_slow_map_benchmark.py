"""`make bench`'s slow-phone map benchmark (bench/slow_map.py), run once at a tiny size like the
others (tests/test_benchmarks.py): here with the browser tests, since it drives Chromium."""

import contextlib

import pytest

from bench import slow_map
from needs.models import Need

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_slow_map_benchmark_runs(capsys, live_server, settings, browser):
    """Its seeding, its two ways of sending the map (switched on the live server rather than on
    two gunicorns), its measuring in Chromium (without the throttling) and its report."""

    @contextlib.contextmanager
    def servers():
        def base_of(way):
            counts_first = way == slow_map.COUNTS_FIRST
            settings.KSBB_MAP_SUMMARY_ABOVE = 0 if counts_first else slow_map.NEVER
            return live_server.url

        yield base_of

    outcome = slow_map.run(
        needs=30, runs=1, servers=servers, browser=browser, throttled=False, boundaries=None
    )
    out = capsys.readouterr().out
    assert outcome in (0, 1)  # no time is asserted
    assert "whole layer first" in out and "counts first" in out and "whole layer / counts" in out
    assert "with the layer" in out and "without the layer" in out  # each way as it should be
    assert Need.objects.count() == 30
