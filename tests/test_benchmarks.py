"""Every `make bench` benchmark, run once at a tiny size in the suite's database: its seeding, its
measuring and its report, so a change that breaks a benchmark breaks the build (a constraint added
without the seeding following it stopped `make bench` once, unnoticed). No time is asserted: the
figures mean something only at full size, in `make bench`. The same for `make loadtest`, below.
The slow-phone map benchmark drives Chromium: it is with the browser tests
(tests/browser/test_slow_map_benchmark.py)."""

import argparse

import pytest

from bench import import_needs, ledger, needs_layer, transparency
from bench.loadtest import cpu as cpu_meter
from bench.loadtest import curve
from bench.loadtest import run as loadtest
from needs.models import Need
from tests import factories

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
    assert "worker: rebuild" in out and "new delivery → figures show it" in out


def test_the_import_benchmark_runs(capsys):
    assert import_needs.run(rows=25) == 0
    out = capsys.readouterr().out
    assert "Import of 25 rows" in out and "25 created" in out and "25 unchanged" in out


@pytest.mark.django_db(transaction=True)
def test_the_ledger_benchmark_runs(capsys, settings):
    outcome = ledger.run(donors=3, each=2)
    out = capsys.readouterr().out
    assert outcome in (0, 1)  # 1: the ratio target missed, which three donors may well do
    assert "different needs" in out and "the same need" in out and "ratio" in out
    assert "sealer: " in out and settings.KSBB_LEDGER


# `make loadtest` (bench/loadtest/): its conclusions on canned samples, then its code against live
# servers for a few seconds (the visitors on live_server, the ceiling under gunicorn).


def _canned(server, mode, users, ms, count, *, errors_after=0, problems=()):
    """A load whose `count` requests in its 10 s window each took `ms`; `errors_after` failures
    after the window (during the stop); `problems` what the database check found."""
    name = "bare view" if server == "bare" else "need page"
    samples = [[name, ms, 200, True, 100 + 10 * i / count] for i in range(count)]
    samples += [[name, 5, 0, False, 111]] * errors_after
    samples += [[name, 99_999, 200, True, 99]]  # before the window: the ramp, not measured
    database = {"problems": list(problems), "summary": "…"} if server == "portal" else None
    raw = {"samples": samples, "outcomes": {}, "accepted": []}
    window = curve.window_of({"spawned": 95, "stopped": 112}, settle=5, measure=10)
    return curve.summarize(
        raw, server=server, mode=mode, users=users, window=window, database=database
    )


def test_the_load_test_concludes_from_its_samples():
    assert curve.percentile(list(range(1, 101)), 95) == 95  # nearest rank: a real value
    portal = [
        _canned("portal", curve.VISITORS, 50, 40, 300),
        _canned("portal", curve.VISITORS, 100, 250, 600),
        _canned("portal", curve.VISITORS, 200, 120, 900, errors_after=1),
        _canned("portal", curve.VISITORS, 300, 900, 950),
        _canned("portal", curve.CLOSED_LOOP, 5, 150, 400),
    ]
    bare = [
        _canned("bare", curve.VISITORS, 300, 4, 1500),
        _canned("bare", curve.CLOSED_LOOP, 5, 6, 8000),
        _canned("bare", curve.CLOSED_LOOP, 20, 400, 9000),  # the most, but over the target
    ]
    first = portal[0]
    assert first["seconds"] == 10 and first["all"]["count"] == 300 and first["all"]["rps"] == 30
    assert first["pages"]["p95"] == 40 and first["holds"]
    assert portal[2]["errors"] == 1 and not portal[2]["holds"]  # failed during the stop

    verdict = curve.conclude(portal, bare, must_hold=300, min_ratio=0.3)
    assert verdict["capacity_visitors"] == 100  # 300 holds neither; 200 had an error
    assert verdict["portal_sustainable"]["rps"] == 60  # 600 in 10 s at 100 visitors
    assert verdict["ceiling"] == {
        "mode": curve.CLOSED_LOOP,
        "users": 5,
        "rps": 800,
        "pages_p95": 6,
    }
    assert verdict["ratio"] == 60 / 800
    assert verdict["saturated_any_latency"]["bare"]["rps"] == 900
    assert verdict["at_largest_holding_steps"]["ratio"] == 60 / 150
    assert verdict["missed"] == [
        "not every step up to 300 visitors holds: at 200 visitors 1 error",
        "ratio 0.075 (target: at least 0.3)",
    ]
    report = curve.verdict_report(verdict)
    assert "RATIO portal / ceiling = 0.075" in report and "TARGET MISSED" in report
    assert len(curve.curve_table(portal + bare).splitlines()) == 9
    assert "does not hold: pages p95 900 ms" in curve.load_report(portal[3])

    portal[1] = _canned("portal", curve.VISITORS, 100, 250, 600, problems=["1 pledge lost"])
    verdict = curve.conclude(portal, bare, must_hold=50, min_ratio=0.01)
    assert verdict["capacity_visitors"] == 50
    assert verdict["missed"] == ["database after 100 visitors: 1 pledge lost"]


@pytest.mark.django_db(transaction=True)
def test_the_load_test_visitors_run_against_a_live_portal(jakarta, live_server, settings, tmp_path):
    """Locust's visitors without think time for a few seconds: every request answered as a
    browser expects (so a change to a page or to the pledge form that the load test does not
    follow breaks the build), then the database checks the run makes after each load."""
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = settings.KSBB_PLEDGE_RATE_PER_EMAIL = "100000/h"
    hot = [factories.NeedFactory(quantity_needed=8).pk for _ in range(2)]
    factories.NeedFactory.create_batch(3)
    data = loadtest.visitor_data([hot])
    assert len(data["needs"]) == 3 and data["kota"]
    raw, window = loadtest.run_load(
        live_server.url,
        "ClosedLoopVisitor",
        3,
        ramp=1,
        settle=0.5,
        measure=3,
        data={"needs": data["needs"], "hot": hot, **{k: data[k] for k in ("categories", "kota")}},
        work=tmp_path,
    )
    database = loadtest.check_database(raw["accepted"], hot)
    load = curve.summarize(
        raw, server="portal", mode=curve.CLOSED_LOOP, users=3, window=window, database=database
    )
    assert load["failures"] == {}  # over the whole run, ramp and stop included
    assert "home" in {s[0] for s in raw["samples"]}  # where every visitor starts
    assert database["problems"] == []
    assert database["found"] == database["accepted"] == raw["outcomes"]["pledges accepted"]
    assert [h["need"] for h in database["hot_needs"]] == hot


def test_the_load_test_measures_the_ceiling_on_both_sides_of_the_portal():
    portal = [_canned("portal", curve.CLOSED_LOOP, 5, 150, 400)]  # 40 req/s
    before = _canned("bare", curve.CLOSED_LOOP, 5, 6, 10_000)  # 1,000 req/s
    before["phase"] = curve.BEFORE
    bare = [before, _canned("bare", curve.CLOSED_LOOP, 5, 6, 8000)]  # 800 after: it drifted
    verdict = curve.conclude(portal, bare, must_hold=0, min_ratio=0.01)
    assert verdict["ceiling"]["rps"] == 1000 and verdict["ceiling"]["phase"] == curve.BEFORE
    assert verdict["ratio"] == 40 / 1000  # against the higher: a slower machine flatters nothing
    assert verdict["ceiling_drift"] == [
        {"users": 5, "before": 1000, "after": 800, "change": pytest.approx(-0.2)}
    ]
    assert "drifted during the run" in verdict["notes"][0]
    report = curve.verdict_report(verdict)
    assert "1000.0 req/s before the portal, 800.0 after (-20 %)" in report
    assert "closed loop (before)" in curve.curve_table(portal + bare)


def test_the_load_test_says_when_the_machine_was_not_quiet():
    portal = [_canned("portal", curve.VISITORS, 50, 40, 300)]
    bare = [_canned("bare", curve.CLOSED_LOOP, 5, 6, 8000)]
    cpu = dict.fromkeys(cpu_meter.KINDS, 10.0) | {"idle": 20.0, "available": 120.0, "cores": 2}
    portal[0]["cpu"] = cpu | {"other": 1.0, "steal": 30.0}  # a quarter taken by the hypervisor
    bare[0]["cpu"] = cpu | {"other": 18.0, "steal": 0.0}  # 15 % by another process
    notes = curve.conclude(portal, bare, must_hold=50, min_ratio=0.01)["notes"]
    assert [note.split(" took")[0] for note in notes] == [
        "other processes",
        "the hypervisor (steal)",
    ]
    assert "took up to 25 % of the CPU" in notes[1]
    assert "steal 25 %" in curve.load_report(portal[0])


def test_the_load_test_ceiling_runs_under_gunicorn(tmp_path, monkeypatch):
    """The bare Django view under ksbb/gunicorn.conf.py behind nginx, one closed-loop level of a
    few seconds: the servers, the generator, the CPU meter and the files the run leaves."""
    # Quicker to start and to leave; the figures mean nothing here.
    monkeypatch.setenv("GUNICORN_WORKERS", "2")
    monkeypatch.setattr(loadtest, "DRAIN_PAUSE", 0)
    args = argparse.Namespace(
        steps=[],
        saturation_users=[2],
        ramp=1,
        settle=0.5,
        measure=2,
        saturation_measure=2,
        artifacts=tmp_path,
        nginx=True,
    )
    [before] = loadtest.serve_bare(args, tmp_path / "work", phase=curve.BEFORE)
    [load] = loadtest.serve_bare(args, tmp_path / "work")
    assert (load["server"], load["mode"], load["users"]) == ("bare", curve.CLOSED_LOOP, 2)
    assert before["phase"] == curve.BEFORE and before["requests"]["bare view"]["count"] > 0
    assert (tmp_path / "samples-bare-closed-loop-0002-before.json").exists()
    assert load["errors"] == 0 and load["requests"]["bare view"]["count"] > 0
    assert load["cpu"]["gunicorn"] > 0 and load["cpu"]["locust"] > 0 and load["cpu"]["nginx"] > 0
    assert load["cpu"]["steal"] >= 0 and "steal" in curve.cpu_line(load["cpu"])
    assert (tmp_path / "samples-bare-closed-loop-0002.json").exists()
