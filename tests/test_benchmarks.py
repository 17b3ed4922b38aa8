"""Every `make bench` benchmark, run once at a tiny size in the suite's database: its seeding, its
measuring and its report, so a change that breaks a benchmark breaks the build (a constraint added
without the seeding following it stopped `make bench` once, unnoticed). No time is asserted: the
figures mean something only at full size, in `make bench`."""

import pytest

from bench import import_needs, needs_layer, transparency
from needs.models import Need

pytestmark = pytest.mark.django_db


def test_the_map_layer_benchmark_runs(capsys):
    outcome = needs_layer.run(needs=40, runs=1)
    out = capsys.readouterr().out
    assert outcome in (0, 1)  # 1: the ratio target missed, which a tiny layer may well do
    assert "Map layer for" in out and "building / (raw SQL + gzip)" in out
    assert Need.objects.count() == 40


def test_the_transparency_benchmark_runs(capsys):
    assert transparency.run(pledges=90, needs=30, collaborators=12, runs=1) == 0
    out = capsys.readouterr().out
    assert "Seeded 90 pledges" in out and "page, warm cache" in out


def test_the_import_benchmark_runs(capsys):
    assert import_needs.run(rows=25) == 0
    out = capsys.readouterr().out
    assert "Import of 25 rows" in out and "25 created" in out and "25 unchanged" in out
