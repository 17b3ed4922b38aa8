"""Anyone checks the figures without trusting the portal: download the ledger, the verifier and the
totals from the transparency page, run the verifier (green); then someone edits a pledge in SQL,
and `manage.py verify_ledger` names it."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from playwright.sync_api import expect

from donations import services
from donations.models import Pledge
from ledger import services as ledger_services
from ledger.models import Entry
from needs import services as need_services
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download(page, name: str, folder):
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def test_a_journalist_verifies_the_ledger_and_an_edit_in_sql_is_named(
    live_gambir, live_server, page, screenshot, tmp_path
):
    staff = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    need = need_services.create(
        site=factories.SiteFactory(),
        aid_type=factories.AidTypeFactory(),
        title="Paket sembako RW 07 Gambir",
        quantity_needed=100,
        beneficiaries=100,
        period_start="2020-10-01",
        by=staff,
    )
    donor = factories.CollaboratorFactory(public_name="Koperasi Terbuka")
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    ledger_services.seal()

    page.goto(live_server.url + "/transparansi/")
    section = page.locator("section", has=page.locator("#ledger-title"))
    head = Entry.objects.order_by("seq").last()
    # The chain's length and its head, in full (a bare digit would also match inside the hash).
    expect(section.get_by_test_id("ledger-head")).to_contain_text(
        f"berisi {Entry.objects.count()} entri; ujungnya: {head.seq}:{head.hash}"
    )
    screenshot("ledger-section-id")
    ledger = _download(page, "Seluruh buku besar (JSON Lines)", tmp_path)
    verifier = _download(page, "Pemeriksa (verify_ledger.py)", tmp_path)
    with page.expect_download() as info:
        page.get_by_role("link", name="Total (CSV)").click()
    totals = tmp_path / "totals.csv"
    info.value.save_as(totals)
    assert (ledger.name, verifier.name) == ("ksbb-ledger.jsonl", "verify_ledger.py")

    # What a journalist's computer does: Python alone, nothing of the portal's installed.
    checked = subprocess.run(
        [sys.executable, "-I", "-S", str(verifier), str(ledger), "--totals", str(totals)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "chain intact" in checked.stdout and "pledges: 2" in checked.stdout

    with connection.cursor() as cursor:
        cursor.execute("UPDATE donations_pledge SET quantity = 400 WHERE id = %s", [pledge.pk])
    out = StringIO()
    with pytest.raises(CommandError, match="1 disagreements"):
        call_command("verify_ledger", stdout=out)
    assert f"pledge #{pledge.pk} quantity: ledger 40, table 400" in out.getvalue()
    assert Pledge.objects.get(pk=pledge.pk).quantity == 400
