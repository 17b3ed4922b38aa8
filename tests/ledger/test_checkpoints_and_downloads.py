"""The head of the chain is recorded at the end of each day (Jakarta time) and published; the
ledger is downloadable whole and by day, with the verifier that checks both, against a saved
checkpoint and against the published totals."""

import datetime
import json

import pytest
from django.utils import timezone

from donations import services
from ledger import services as ledger_services
from ledger import verifier
from ledger.models import Checkpoint, Entry
from tests import factories

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def three_days(need, clock_days):
    """A donor registered, then a pledge on each of three days, the checkpoints recorded the
    morning after each: the chain's entries 1 and 2 on the first day, 3 and 4 on the next."""
    clock_days(0)
    donor = factories.CollaboratorFactory()
    for day in range(3):
        clock_days(day)
        services.pledge(need=need, collaborator=donor, quantity=1)
        ledger_services.seal()
    clock_days(3)
    return ledger_services.record_checkpoints()


@pytest.fixture
def clock_days(monkeypatch):
    start = timezone.now().replace(hour=3) - datetime.timedelta(days=3)

    def at(day: int):
        now = start + datetime.timedelta(days=day)
        monkeypatch.setattr(timezone, "now", lambda: now)
        return now

    return at


def test_a_checkpoint_per_day_that_ended(three_days):
    assert [c.seq for c in three_days] == [2, 3, 4]  # a pledge a day
    entries = {e.seq: e.hash for e in Entry.objects.all()}
    assert all(entries[c.seq] == c.hash for c in three_days)
    assert ledger_services.record_checkpoints() == []  # once per day


def test_the_checkpoints_are_open_data(client, three_days):
    body = _body(client.get("/transparansi/data/ledger_checkpoints.csv")).decode()
    for c in three_days:
        assert f"{c.day.isoformat()},{c.seq},{c.hash}" in body


def test_a_days_download_verifies_from_the_day_before(client, three_days):
    first, second, _third = three_days
    lines = _body(client.get(f"/transparansi/buku-besar/{second.day}.jsonl")).decode().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [3]
    start = {"seq": first.seq, "hash": first.hash}
    assert list(verifier.check_chain(entries, (second.seq, second.hash), start)) == entries
    assert client.get("/transparansi/buku-besar/2999-01-01.jsonl").status_code == 404
    assert client.get("/transparansi/buku-besar/kemarin.jsonl").status_code == 404


def test_a_rewritten_history_fails_against_a_saved_checkpoint(client, three_days):
    entries = [
        json.loads(line)
        for line in _body(client.get("/transparansi/buku-besar.jsonl")).decode().splitlines()
    ]
    saved = three_days[1]
    # Someone rewrites entry 2 and recomputes every hash after it: the chain holds, but it no longer
    # passes through the checkpoint anyone saved at entry 2.
    entries[1]["data"]["quantity"] = 100
    prev = entries[0]["hash"]
    for entry in entries[1:]:
        entry["prev_hash"], entry["hash"] = prev, verifier.entry_hash(prev, entry)
        prev = entry["hash"]
    assert list(verifier.check_chain(entries))
    with pytest.raises(verifier.Mismatch, match="history was rewritten"):
        list(verifier.check_chain(entries, (saved.seq, saved.hash)))


def test_the_standalone_verifier_checks_the_downloads(client, history, tmp_path, capsys):
    source = _body(client.get("/transparansi/buku-besar/verify_ledger.py"))
    with open(verifier.__file__, "rb") as f:
        assert source == f.read()
    ledger = tmp_path / "ksbb-ledger.jsonl"
    ledger.write_bytes(_body(client.get("/transparansi/buku-besar.jsonl")))
    totals = tmp_path / "totals.csv"
    totals.write_bytes(_body(client.get("/transparansi/data/totals.csv")))
    with totals.open(encoding="utf-8") as f:
        published = verifier.published_figures(f)
    assert {"collaborators", "pledges", "deliveries", "needs", "beneficiaries_reached"} <= set(
        published
    )
    assert verifier.main([str(ledger), "--totals", str(totals)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ") and "chain intact" in out
    # One byte changed: the verifier says where.
    text = ledger.read_text().splitlines()
    at = text[4].index('Z"')  # the last digit of the entry's time
    text[4] = text[4][: at - 1] + ("1" if text[4][at - 1] == "0" else "0") + text[4][at:]
    ledger.write_text("\n".join(text) + "\n")
    assert verifier.main([str(ledger)]) == 1
    assert "MISMATCH: entry 5" in capsys.readouterr().out


def test_the_verifier_says_when_the_portal_publishes_other_figures(history, tmp_path, capsys):
    entries = [e.as_public() for e in Entry.objects.order_by("seq")]
    ledger = tmp_path / "l.jsonl"
    ledger.write_text("".join(json.dumps(e) + "\n" for e in entries))
    real = verifier.figures(verifier.replay(entries))
    totals = tmp_path / "totals.csv"
    totals.write_text(
        "figure,category,aid_type,unit,status,recipients,collaborator_kind,region_level,region_code,value\n"
        f"pledges,,,,,,,,,{real['pledges'] + 1}\n"
    )
    assert verifier.main([str(ledger), "--totals", str(totals)]) == 1
    assert f"figure pledges: the portal publishes {real['pledges'] + 1}" in capsys.readouterr().out


@pytest.mark.parametrize("garbage", ["not json\n", '{"seq": 1}\n', '["a"]\n'])
def test_a_file_that_is_no_ledger_is_said_so(tmp_path, capsys, garbage):
    path = tmp_path / "x.jsonl"
    path.write_text(garbage)
    assert verifier.main([str(path)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_no_checkpoint_before_the_ledger_begins(db):
    assert ledger_services.record_checkpoints() == []
    assert not Checkpoint.objects.exists()


def test_the_verifier_runs_with_pythons_standard_library_alone(client, history, tmp_path):
    import ast
    import subprocess
    import sys

    with open(verifier.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    ledger = tmp_path / "ksbb-ledger.jsonl"
    ledger.write_bytes(_body(client.get("/transparansi/buku-besar.jsonl")))
    # -I -S: no site-packages, no environment, no current directory: what a journalist's Python has.
    done = subprocess.run(
        [sys.executable, "-I", "-S", verifier.__file__, str(ledger)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "chain intact" in done.stdout


def test_the_transparency_page_shows_the_head_the_checkpoints_and_the_downloads(client, three_days):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/transparansi/").content.decode()
    seq, digest = ledger_services.head()
    assert f"{seq}:{digest}" in page and "The chain now holds 4 entries" in page
    for c in three_days:
        assert c.hash in page and f"/transparansi/buku-besar/{c.day}.jsonl" in page
    for address in (
        "/transparansi/buku-besar.jsonl",
        "/transparansi/buku-besar/verify_ledger.py",
        "/transparansi/data/ledger_checkpoints.csv",
    ):
        assert address in page
