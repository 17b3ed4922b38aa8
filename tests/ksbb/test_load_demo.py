"""`manage.py load_demo`: demo data shaped like the article, placed sensibly, loaded only once, and
quietly: its mails stay in the outbox. With it, the development logins of `ensure_dev_staff`.

Loading takes a minute, so each class loads it once (in a transaction rolled back after the class)
and its tests read it; a test that changes data runs in its own savepoint, as with `db`.
"""

import datetime
import io
import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import TestCase, override_settings

from donations.models import (
    HOLDING_STATUSES,
    Collaborator,
    Delivery,
    OutboundMail,
    Pledge,
    PledgeEvent,
    PledgeStatus,
)
from donations.services import counter_mismatches
from ksbb import demo
from locations.models import ContactPerson, Region, Site
from needs.models import Need, NeedStatus
from tests import factories
from tests.transparency.test_open_data_has_no_personal_data import public_outputs, secrets
from transparency import figures

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "jakarta"
BOUNDARIES = os.environ.get("KSBB_BOUNDARIES") or str(SHARED / "kelurahan.geojson")
RW_POINTS = os.environ.get("KSBB_RW_POINTS") or str(SHARED / "rw_2012_points.csv")
SHARED_FILES_ABSENT = not all(Path(p).is_file() for p in [*BOUNDARIES.split(os.pathsep), RW_POINTS])
# What the public pages show: pledges still holding and pledges delivered.
PUBLIC = [*HOLDING_STATUSES, PledgeStatus.DELIVERED]


@contextmanager
def _loaded(django_db_blocker, **files):
    """The demo loaded by the command, as `make run` loads it, in a transaction rolled back at the
    end. Yields the command's output and the mails sent, those of its after-commit actions included
    (run here as if the load had committed)."""
    out = io.StringIO()
    with (
        django_db_blocker.unblock(),
        override_settings(**files),
        transaction.atomic(),
    ):
        factories.ensure_migration_rows()
        del mail.outbox[:]
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("load_demo", "--allow-without-debug", stdout=out)
        yield SimpleNamespace(output=out.getvalue(), sent=list(mail.outbox))
        transaction.set_rollback(True)


def _donors(*slugs: str, statuses=PledgeStatus.values) -> int:
    """Distinct collaborators with a pledge in any of these categories."""
    return (
        Collaborator.objects.filter(
            pledges__need__aid_type__category__slug__in=slugs, pledges__status__in=statuses
        )
        .distinct()
        .count()
    )


def _state() -> tuple:
    """What a re-run must not change: every model's row count and every need's counters."""
    needs = Need.objects.order_by("external_ref").values_list(
        "external_ref", "quantity_pledged", "quantity_delivered", "is_closed"
    )
    return demo.row_counts(), list(needs)


def _log_in(client, username: str) -> None:
    """Sign in through the admin's login form, with the password ensure_dev_staff prints."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": "ksbb-dev"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session


class TestWithoutFiles:
    """No boundaries and no RW points: the fast path, every site placed approximately."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def loaded(cls, django_db_setup, django_db_blocker):
        with _loaded(django_db_blocker, KSBB_BOUNDARIES="", KSBB_RW_POINTS="") as load:
            cls.load = load
            yield

    def test_every_region_is_loaded(self, db):
        levels = Counter(Region.objects.values_list("level", flat=True))
        assert levels == {"kota": 6, "kecamatan": 44, "kelurahan": 267}

    def test_the_demo_history_reproduces_the_articles_figures_as_of_26_october_2020(self, db):
        """/transparansi/?as_of=2020-10-26 shows what the article reported that day."""
        end = figures.end_of_day(datetime.date(2020, 10, 26))
        assert not PledgeEvent.objects.filter(at__gte=end).exists()
        then = figures.compute(datetime.date(2020, 10, 26))
        by_category = {row["slug"]: row["collaborators"] for row in then["by_category"]}
        assert then["collaborators"] == 224
        assert (by_category["pangan"], by_category["umkm"]) == (143, 81)
        # Before the programme began there was nothing to count.
        assert figures.compute(datetime.date(2020, 4, 1))["collaborators"] == 0

    def test_aid_types_get_sourced_reference_values_and_two_stay_without(self, db):
        from needs.models import AidType

        valued = AidType.objects.exclude(unit_value=None)
        assert valued.count() == len(demo.texts.UNIT_VALUES)
        assert set(valued.values_list("unit_value_source", flat=True)) == {
            demo.texts.UNIT_VALUE_SOURCE
        }
        assert AidType.objects.filter(unit_value=None).count() == 2  # "no estimate" on the pages
        assert all(a.history.exists() for a in valued)

    def test_every_kelurahan_has_an_rw_site(self, db):
        without = Region.objects.kelurahan().exclude(sites__kind=Site.Kind.RW)
        assert list(without) == []

    def test_without_boundaries_every_site_is_flagged_approximate(self, db):
        assert Site.objects.count() > 700
        assert not Site.objects.filter(location_is_approximate=False).exists()

    def test_loksem_schools_and_the_articles_kampung_are_sites(self, db):
        kinds = Counter(Site.objects.values_list("kind", flat=True))
        assert kinds[Site.Kind.LOKSEM] >= 24 and kinds[Site.Kind.SCHOOL] >= 24
        akuarium = Site.objects.get(kind=Site.Kind.KAMPUNG, name="Kampung Akuarium")
        assert akuarium.kelurahan.name == "Penjaringan"
        assert Site.objects.filter(kind=Site.Kind.KAMPUNG).count() == 12

    def test_contacts_are_mostly_unverified_with_some_verified_and_unreachable(self, db):
        assert not Site.objects.filter(contacts__isnull=True).exists()
        status = Counter(ContactPerson.objects.values_list("verification_status", flat=True))
        assert status["verified"] and status["unreachable"] and status["replaced"]
        assert status["unverified"] > sum(status.values()) / 2

    def test_pledges_exist_in_every_status_with_partial_deliveries(self, db):
        assert set(Pledge.objects.values_list("status", flat=True)) == set(PledgeStatus.values)
        assert Pledge.objects.count() < 2000
        # A first hand-over of a pledge still scheduled, and pledges delivered in two.
        assert Pledge.objects.filter(status="scheduled", quantity_delivered__gt=0).exists()
        twice = Pledge.objects.annotate(n=Count("deliveries")).filter(status="delivered", n=2)
        assert twice.exists()

    def test_only_scheduled_pledges_reached_sites_with_a_verified_contact(self, db):
        reached = Pledge.objects.filter(scheduled_at__isnull=False)
        unverified = reached.exclude(
            need__site__contacts__verification_status=ContactPerson.Verification.VERIFIED
        )
        assert reached.exists() and not unverified.exists()

    def test_collaborators_per_category_match_the_article(self, db):
        for statuses in (PledgeStatus.values, PUBLIC):
            assert _donors("pangan", statuses=statuses) == 143
            assert _donors("umkm", statuses=statuses) == 81
            assert _donors("pangan", "umkm", statuses=statuses) == 224
        assert 0 < _donors("pendidikan") < 81 and 0 < _donors("permukiman") < 81
        assert Collaborator.objects.count() == 224
        assert Collaborator.objects.filter(is_anonymous=True).exists()

    def test_nine_humanitarian_institutions_and_two_fintech_firms(self, db):
        kinds = Counter(Collaborator.objects.values_list("kind", flat=True))
        assert kinds["humanitarian"] == 9 and kinds["fintech"] == 2
        assert Collaborator.objects.filter(public_name="Human Initiative").exists()
        assert not Collaborator.objects.exclude(email__endswith="example.test").exists()

    def test_needs_cover_every_category_and_every_status(self, db):
        per_category = Counter(Need.objects.values_list("aid_type__category__slug", flat=True))
        assert set(per_category) == {"pangan", "umkm", "pendidikan", "permukiman"}
        assert set(Need.objects.values_list("status", flat=True)) == set(NeedStatus.values)
        assert Need.objects.filter(published=False).exists()
        # The planned needs are 2020's; the recurring need's month is this one, on purpose (its
        # contact person can confirm the next), and is made by the series, not planned.
        planned = Need.objects.filter(series=None)
        assert not planned.exclude(external_ref__startswith="DEMO-N-").exists()
        in_2020 = Q(period_start__year=2020) & (
            Q(period_end__isnull=True) | Q(period_end__year=2020)
        )
        assert not planned.exclude(in_2020).exists()
        assert Need.objects.exclude(series=None).count() == 1

    def test_open_needs_show_every_freshness(self, db):
        from needs.models import Freshness

        for state in Freshness.values:
            assert Need.objects.by_freshness(state).exists(), state
        from needs.models import Proposal

        assert Proposal.objects.pending().filter(kind="quantity").exists()
        from needs.models import NeedSeries

        assert NeedSeries.objects.get().periods.count() == 1
        confirmed = Need.objects.exclude(confirmed_at=None)
        assert confirmed.filter(confirmed_by_contact=True).exists()
        assert confirmed.filter(confirmed_by_contact=False).exists()

    def test_deliveries_show_every_answer_of_their_recipients(self, db):
        from donations.models import Delivery, Receipt, ReceiptState

        states = {d.receipt_state() for d in Delivery.objects.select_related("receipt")}
        assert {ReceiptState.CONFIRMED, ReceiptState.DISPUTED, ReceiptState.UNCONFIRMED} <= states
        assert Receipt.objects.open_disputes().exists()
        assert Receipt.objects.exclude(resolved_at=None).exists()

    def test_some_deliveries_had_a_colleagues_second_check(self, db):
        from django.db.models import F

        from donations.models import Delivery

        checked = Delivery.objects.exclude(checked_at=None)
        assert checked.exists() and not checked.filter(checked_by=F("recorded_by")).exists()
        unverified = [d for d in Delivery.objects.select_related("receipt") if not d.is_verified]
        assert unverified  # and some are recorded only

    def test_make_run_prints_a_contact_persons_link(self, db, settings, client):
        settings.DEBUG = True
        out = io.StringIO()
        call_command("send_contact_link", "--demo", stdout=out)
        url = out.getvalue().strip().rsplit(" ", 1)[1]
        assert url.startswith(settings.KSBB_BASE_URL + "/narahubung/")
        page = client.get(url.removeprefix(settings.KSBB_BASE_URL))
        assert page.status_code == 200
        assert b"recipient-need" in page.content

    def test_the_need_counters_agree_with_the_pledges(self, db):
        assert list(counter_mismatches()) == []

    def test_the_ledger_holds_the_whole_demo_and_agrees_with_every_row(self, db):
        from ledger.models import Event
        from ledger.verifier import figures, replay
        from transparency import figures as page
        from transparency.ledger_check import disagreements, entries

        assert not Event.objects.exists()  # sealed by the load itself
        assert disagreements() == []
        computed = figures(replay(entries()))
        today = page.compute()
        assert {k: computed[k] for k in computed if k in today} == {
            k: today[k] for k in computed if k in today
        }

    def test_deliveries_are_facilitated_by_opds(self, db):
        opds = set(Delivery.objects.values_list("opd__kind", flat=True))
        assert {"satpol_pp", "kelurahan"} <= opds

    def test_open_pledges_hold_by_their_categorys_rule_some_due_soon_some_extended(self, db):
        import datetime

        from django.utils import timezone

        from donations import holds, services

        now = timezone.now()
        holding = Pledge.objects.holding().select_related("need__aid_type__category")
        assert holding.exists() and not holding.filter(hold_until__lte=now).exists()
        # Loaded today, or yesterday if the class's tests run past midnight.
        loaded_on = [timezone.localdate(now) - datetime.timedelta(days=d) for d in (0, 1)]
        for p in holding:
            category = p.need.aid_type.category
            if p.status == PledgeStatus.SCHEDULED:
                grace = datetime.timedelta(days=category.grace_days)
                assert p.hold_until in {
                    holds.last_minute_of(max(p.scheduled_for, day) + grace) for day in loaded_on
                }
            else:
                times = 2 if p.extended_at else 1
                assert p.hold_until <= now + times * holds.rule_length(p.status, category)
        assert holding.filter(hold_until__lte=now + holds.DUE_SOON).exists()
        assert holding.filter(extended_at__isnull=False).exists()
        # So the first run of the cron job after loading the demo expires nothing.
        assert services.run_holds(now=now).expired == 0

    def test_running_it_again_changes_nothing(self, db, settings, capsys):
        settings.DEBUG = True
        before = _state()
        call_command("load_demo", verbosity=2)
        assert _state() == before
        out = capsys.readouterr().out
        assert "created nothing" in out
        assert "  Needs: " in out  # -v 2 adds the totals

    def test_the_command_says_what_it_created_in_two_lines(self, db):
        created, mails = self.load.output.splitlines()
        assert created.startswith("Demo data loaded in ")
        for what in ("317 regions", "224 collaborators", " needs", " pledges"):
            assert what in created
        queued = OutboundMail.objects.count()
        assert mails == (
            f"  Their {queued} mails stay unsent in the outbox: /admin/donations/outboundmail/"
        )

    def test_its_mails_stay_unsent_in_the_outbox(self, db):
        queued = OutboundMail.objects.all()
        assert queued.count() > 500  # a thank-you per pledge, and the steps that followed
        assert not queued.filter(Q(sent_at__isnull=False) | Q(attempts__gt=0)).exists()
        assert self.load.sent == []  # nothing reached the mail backend, even after the commit

    def test_if_empty_does_nothing_when_demo_needs_exist(self, db, settings, capsys):
        settings.DEBUG = True
        before = _state()
        call_command("load_demo", "--if-empty")
        assert _state() == before
        assert capsys.readouterr().out.strip() == "Demo data already loaded; nothing to do."

    def test_the_same_seed_plans_the_same_data(self, db):
        def fingerprint(plan: demo.Plan):
            return (
                [(s.name, s.kelurahan.code, s.point.coords, len(s.contacts)) for s in plan.sites],
                [
                    (
                        n.ref,
                        n.title,
                        n.quantity,
                        [(p.quantity, p.status, p.collaborator) for p in n.pledges],
                    )
                    for n in plan.needs
                ],
                [c.email for c in plan.collaborators],
            )

        assert fingerprint(demo.plan(7)) == fingerprint(demo.plan(7))
        assert fingerprint(demo.plan(7)) != fingerprint(demo.plan(8))

    # The development logins on the demo, as `make run` leaves them.

    @pytest.fixture
    def dev_staff(self, db, settings):
        settings.DEBUG = True
        call_command("ensure_dev_staff", stdout=io.StringIO())

    def test_the_dev_area_officer_sees_only_their_kecamatans_needs(self, dev_staff, client):
        _log_in(client, "petugas.gambir")
        response = client.get("/admin/needs/need/")
        assert response.status_code == 200
        listed = set(response.context["cl"].queryset.values_list("pk", flat=True))
        gambir = Need.objects.filter(site__kelurahan__code__startswith="31.71.01.")
        assert listed == set(gambir.values_list("pk", flat=True))
        # The area was chosen to show something: needs with pledges, and not all of Jakarta.
        assert Pledge.objects.filter(need__in=gambir).exists()
        assert 0 < len(listed) < Need.objects.count()

    def test_the_dev_auditor_reads_every_need_and_cannot_change_one(self, dev_staff, client):
        _log_in(client, "auditor")
        listing = client.get("/admin/needs/need/")
        assert listing.context["cl"].queryset.count() == Need.objects.count()
        need = Need.objects.order_by("pk").first()
        url = f"/admin/needs/need/{need.pk}/change/"
        assert client.get(url).status_code == 200
        response = client.post(url, {"title": "Diubah auditor", "change_reason": "coba"})
        assert response.status_code == 403
        assert Need.objects.get(pk=need.pk).title == need.title


@pytest.mark.skipif(SHARED_FILES_ABSENT, reason=f"no boundary or RW point files at {SHARED}")
class TestWithSharedFiles:
    """The real kelurahan boundaries and 2012 RW points, as on the dev machine and in CI."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def loaded(cls, django_db_setup, django_db_blocker):
        with _loaded(django_db_blocker, KSBB_BOUNDARIES=BOUNDARIES, KSBB_RW_POINTS=RW_POINTS):
            yield

    def test_every_region_has_a_boundary(self, db):
        assert Region.objects.count() == 6 + 44 + 267
        assert not Region.objects.filter(boundary__isnull=True).exists()

    def test_every_kelurahan_has_an_rw_site(self, db):
        assert not Region.objects.kelurahan().exclude(sites__kind=Site.Kind.RW).exists()

    def test_rw_sites_stand_on_the_2012_points_where_there_are_some(self, db):
        rw = Site.objects.filter(kind=Site.Kind.RW)
        on_points = rw.filter(external_ref__regex=r"^31\.\d\d\.\d\d\.\d{4}-RW\d+$")
        assert on_points.filter(location_is_approximate=False).count() > 0.95 * on_points.count()
        # Kepulauan Seribu has no 2012 RW data: its RWs are placed approximately.
        islands = rw.filter(kelurahan__code__startswith="31.01.")
        assert islands.count() >= 6 and not islands.filter(location_is_approximate=False).exists()
        assert not islands.filter(external_ref__isnull=False).exists()

    def test_every_site_passes_the_models_validation(self, db):
        for site in Site.objects.select_related("kelurahan"):
            site.full_clean()

    def test_the_article_figures_and_the_counters_hold(self, db):
        assert (_donors("pangan"), _donors("umkm"), _donors("pangan", "umkm")) == (143, 81, 224)
        assert set(Pledge.objects.values_list("status", flat=True)) == set(PledgeStatus.values)
        assert list(counter_mismatches()) == []

    def test_running_it_again_changes_nothing(self, db, settings):
        settings.DEBUG = True
        before = _state()
        call_command("load_demo")
        assert _state() == before

    def test_no_personal_data_in_any_public_output(self, db, client):
        """Every public page and download, scanned for every e-mail, phone, contact name, token
        and anonymous donor's name the demo holds (tests/transparency/test_open_data_has_no_personal_data.py)."""
        assert Collaborator.objects.filter(is_anonymous=True).exists()
        assert ContactPerson.objects.exists() and Pledge.objects.exists()
        found = secrets()
        leaks = {
            (url, secret)
            for url, text in public_outputs(client).items()
            for secret in found
            if secret in text
        }
        assert not leaks


def test_without_debug_it_refuses_and_writes_nothing(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("load_demo")
    assert not Region.objects.exists() and not Need.objects.exists()
