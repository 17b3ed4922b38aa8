"""`/transparansi/?as_of=` shows the day's headline figures as the public ledger recorded them by
that evening, beside the tables' figures; the standalone verifier's `--as-of` gives the same from
the download. A delivery recorded later under an earlier date is where the two differ, and the page
says so."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from donations import services
from ledger import services as ledger_services
from ledger import verifier
from needs import services as need_services
from tests import factories
from tests.helpers import schedule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
# Three mornings in Jakarta.
DAYS = [datetime.datetime(2026, 11, d, 9, 0, tzinfo=JAKARTA) for d in (2, 3, 4)]


@pytest.fixture(autouse=True)
def _english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def clock(monkeypatch):
    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return at


@pytest.fixture
def three_days(clock, jakarta, province_staff):
    """Day 1: a need and a pledge of 40. Day 2: a second pledge of 10, and the first is scheduled.
    Day 3: its delivery of 40 is recorded, dated day 2."""
    clock(DAYS[0])
    need = need_services.create(
        site=factories.SiteFactory(),
        aid_type=factories.AidTypeFactory(),
        title="Paket sembako RW 03",
        quantity_needed=50,
        beneficiaries=30,
        period_start=datetime.date(2026, 11, 1),
        by=province_staff,
    )
    first = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=40)
    ledger_services.seal()
    clock(DAYS[1])
    services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    first = schedule(first, province_staff, on=DAYS[1].date())
    ledger_services.seal()
    clock(DAYS[2])
    services.record_delivery(
        first,
        quantity=40,
        delivered_on=DAYS[1].date(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    ledger_services.seal()
    clock(DAYS[2] + datetime.timedelta(hours=5))
    return need


def test_a_day_ends_at_midnight_in_jakarta():
    assert verifier.day_end(datetime.date(2026, 12, 1)) == "2026-12-01T17:00:00.000000Z"


def test_the_page_shows_what_the_ledger_recorded_by_each_evening(client, three_days):
    day1 = client.get("/transparansi/?as_of=2026-11-02").content.decode()
    assert 'data-testid="as-of-ledger"' in day1
    assert 'data-testid="ledger-pledges">1<' in day1
    assert 'data-testid="ledger-collaborators">1<' in day1
    day2 = client.get("/transparansi/?as_of=2026-11-03").content.decode()
    assert 'data-testid="ledger-pledges">2<' in day2
    # The delivery dated day 2 was recorded on day 3: the tables count it for day 2, the ledger
    # did not have it that evening.
    assert 'data-testid="ledger-deliveries">0 <small>(tables: 1)</small>' in day2
    assert "a delivery recorded later under an earlier date" in day2
    day3 = client.get("/transparansi/?as_of=2026-11-04").content.decode()
    assert 'data-testid="ledger-deliveries">1<' in day3
    assert "tables:" not in day3, "by day 3 the ledger and the tables agree"
    today = client.get("/transparansi/").content.decode()
    assert 'data-testid="as-of-ledger"' not in today


def test_the_verifier_gives_the_pages_figures_for_a_day(client, three_days, tmp_path, capsys):
    ledger = tmp_path / "ksbb-ledger.jsonl"
    response = client.get("/transparansi/buku-besar.jsonl")
    ledger.write_bytes(b"".join(response.streaming_content))
    assert verifier.main([str(ledger), "--as-of", "2026-11-03"]) == 0
    out = capsys.readouterr().out
    assert "As of 2026-11-03 (Jakarta time)" in out
    page = client.get("/transparansi/?as_of=2026-11-03").content.decode()
    for name, value in (("pledges", 2), ("deliveries", 0), ("collaborators", 2)):
        assert f"  {name}: {value}\n" in out
        assert f'data-testid="ledger-{name}">{value}' in page


def test_a_day_before_the_ledger_began_says_so(client, three_days):
    page = client.get("/transparansi/?as_of=2026-10-01").content.decode()
    assert "The public ledger began on 2 November 2026, after this day" in page


def test_a_bad_date_for_the_verifier_is_refused_with_a_message(tmp_path, capsys):
    ledger = tmp_path / "l.jsonl"
    ledger.write_text("")
    with pytest.raises(SystemExit) as exited:
        verifier.main([str(ledger), "--as-of", "kemarin"])
    assert exited.value.code == 2 and "--as-of" in capsys.readouterr().err
