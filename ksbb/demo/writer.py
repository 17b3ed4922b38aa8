"""Writing the demo: `load_demo()` turns the plan (ksbb.demo.planning) into rows, in one transaction.

Rows are found again by their natural keys (a site's external_ref or (kelurahan, kind, name), a
collaborator's e-mail, an OPD's name, a need's external_ref), and pledges are made only for needs
that have none, so a second run creates nothing. Needs, contacts, verifications, pledges and
deliveries go through the services, as a staff member's would (tests/services_guard.py checks the
first two), and so do the organisations' vetting; sites, OPDs and collaborators are inserted in bulk
(the collaborators with their ledger entries). The only
write around the services is ksbb.demo.backdate, which dates the new pledges' history in 2020.
"""

import datetime
import hashlib
import io
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfWriter

from donations import mail, services
from donations.ledger import collaborator_state
from donations.models import Collaborator, Delivery, Opd, OutboundMail, Pledge, Receipt, Vetting
from donations.vetting import NIB_KINDS
from ksbb.demo import texts
from ksbb.demo.backdate import HISTORY_START, age_needs, backdate_demo_history
from ksbb.demo.planning import (
    DEFAULT_SEED,
    NEED_PREFIX,
    PledgePlan,
    S,
    Verification,
    plan,
    setting_paths,
)
from ledger import services as ledger_services
from locations.boundaries import import_boundaries
from locations.models import ContactPerson, Region, Site
from locations.registry import load_regions
from locations.rw_areas import import_rw_areas
from locations.services import create_contacts, verify_contact
from needs import services as needs_services
from needs.models import AidType, Category, Need, NeedSeries, Proposal

STAFF_USERNAME = "demo-petugas"
# The colleague who makes the second check of deliveries the first recorded (no one checks their
# own work, docs/staff.md).
CHECKER_USERNAME = "demo-pemeriksa"


def demo_exists() -> bool:
    """Whether demo needs are already loaded (what `load_demo --if-empty` checks)."""
    return Need.objects.filter(external_ref__startswith=NEED_PREFIX).exists()


def demo_staff(username: str = STAFF_USERNAME, first_name: str = "Petugas"):
    """The staff member the demo's verifications and pledge steps are recorded against (or, by
    `username`, their colleague). No login."""
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"first_name": first_name, "last_name": "Demo", "is_staff": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def load_demo(seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Load the demo data set (see ksbb.demo). Returns what this run created, "mails" included: the
    mails the services queued, which stay unsent in the outbox (donations.mail.kept_in_outbox)."""
    created: Counter[str] = Counter()
    mails_before = OutboundMail.objects.aggregate(last=Max("pk"))["last"] or 0
    with mail.kept_in_outbox():
        created["regions"] = load_regions()["created"]
        for path in setting_paths(settings.KSBB_BOUNDARIES):
            import_boundaries(path)
        for path in setting_paths(settings.KSBB_RW_BOUNDARIES):
            created["RW areas"] += import_rw_areas(
                path, source=settings.KSBB_RW_BOUNDARIES_SOURCE
            ).created
        staff = demo_staff()
        demo = plan(seed)
        site_ids = _write_sites(demo.sites, created)
        _write_contacts(demo.sites, site_ids, staff, created)
        with connection.cursor() as cursor:
            # Statistics for the rows just written: without them (a fresh database, or rows not yet
            # committed) the planner may join sites, contacts and regions row by row, for minutes.
            cursor.execute("ANALYZE locations_region, locations_site, locations_contactperson")
        opds = _write_opds(demo.opds, created)
        collaborators = _write_collaborators(demo.collaborators, created)
        _vet_organisations(collaborators, staff, created)
        _write_unit_values(staff, created)
        before = Pledge.objects.aggregate(last=Max("pk"))["last"] or 0
        new_needs = _write_needs_and_pledges(
            demo.needs, site_ids, opds, collaborators, staff, created
        )
        backdate_demo_history(after_pk=before)
        _confirm_and_age(new_needs, staff, created)
        _answer_deliveries(before, staff, created)
        _write_series(staff, created)
        _write_vetting_thresholds()
    ledger_services.seal()  # the worker would, soon; the demo is whole at once
    created["mails"] = OutboundMail.objects.filter(pk__gt=mails_before).count()
    return dict(created)


def _write_unit_values(staff, created: Counter) -> None:
    """The demo's reference values (texts.UNIT_VALUES), for aid types that have none yet: a value
    staff set is never overwritten. Saved one by one, so each has its history row."""
    for aid_type in AidType.objects.select_related("category").filter(unit_value=None):
        value = texts.UNIT_VALUES.get((aid_type.category.slug, aid_type.name))
        if value is None:
            continue
        aid_type.unit_value, aid_type.unit_value_source = value, texts.UNIT_VALUE_SOURCE
        aid_type.unit_value_set_on = datetime.date.fromisoformat(HISTORY_START[:10])
        aid_type._history_user = staff
        aid_type.save(update_fields=["unit_value", "unit_value_source", "unit_value_set_on"])
        created["unit values"] += 1


def _write_sites(plans, created: Counter) -> dict[tuple, int]:
    """Site id by plan key; new sites in one insert. A site is found by its external_ref, or else
    by (kelurahan, kind, name)."""
    by_ref, by_key = {}, {}
    for pk, ref, kel, kind, name in Site.objects.values_list(
        "pk", "external_ref", "kelurahan_id", "kind", "name"
    ):
        by_key[(kel, kind, name)] = pk
        if ref:
            by_ref[ref] = pk
    new = []
    for p in plans:
        if (p.external_ref and p.external_ref in by_ref) or p.key in by_key:
            continue
        new.append(
            Site(
                kind=p.kind,
                name=p.name,
                kelurahan=p.kelurahan,
                point=p.point,
                location_is_approximate=p.approximate,
                address=p.address,
                external_ref=p.external_ref,
            )
        )
    for site in Site.objects.bulk_create(new):
        by_key[(site.kelurahan_id, site.kind, site.name)] = site.pk
    created["sites"] = len(new)
    return {p.key: by_ref.get(p.external_ref) or by_key[p.key] for p in plans}


def _write_contacts(plans, site_ids, staff, created: Counter) -> None:
    """Contacts for the sites that have none yet, then what staff found when they called them."""
    with_contacts = set(ContactPerson.objects.values_list("site_id", flat=True).distinct())
    todo = []
    for p in plans:
        if site_ids[p.key] not in with_contacts:
            todo.append((p, site_ids[p.key]))
            with_contacts.add(site_ids[p.key])
    rows = [
        (c, ContactPerson(site_id=site_id, name=c.name, role=c.role, phone=c.phone, note=c.note))
        for p, site_id in todo
        for c in p.contacts
    ]
    # As the sites import makes them (no staff member wrote them), so demo staff may verify them.
    create_contacts([row for _c, row in rows], by=None, reason=_("Demo data"))
    created["contacts"] = len(rows)
    saved = {id(c): row for c, row in rows}
    for p, _site_id in todo:
        # The replacement first: a replaced contact names who replaced it.
        for c in sorted(p.contacts, key=lambda c: c.verification == Verification.REPLACED):
            if c.verification == Verification.UNVERIFIED:
                continue
            replacement = None
            if c.verification == Verification.REPLACED:
                replacement = next(saved[id(o)] for o in p.contacts if o is not c)
            verify_contact(saved[id(c)], c.verification, by=staff, replaced_by=replacement)


def _write_opds(plans, created: Counter) -> dict[str, Opd]:
    existing = {o.name: o for o in Opd.objects.all()}
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for _, _, c in plans if c])}
    new = [
        Opd(name=name, kind=kind, region=regions.get(code))
        for name, kind, code in plans
        if name not in existing
    ]
    for opd in Opd.objects.bulk_create(new):
        existing[opd.name] = opd
    created["opds"] = len(new)
    return existing


def _write_collaborators(plans, created: Counter) -> dict[str, Collaborator]:
    existing = {c.email.lower(): c for c in Collaborator.objects.all()}
    new = [
        Collaborator(
            public_name=c.public_name,
            kind=c.kind,
            email=c.email,
            phone=c.phone,
            is_anonymous=c.is_anonymous,
        )
        for c in plans
        if c.email.lower() not in existing
    ]
    for c in Collaborator.objects.bulk_create(new):
        existing[c.email.lower()] = c
    ledger_services.record_many("collaborator", [collaborator_state(c) for c in new])
    created["collaborators"] = len(new)
    return existing


def _letter() -> SimpleUploadedFile:
    """A one-page PDF standing in for an organisation's statement letter."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("surat.pdf", out.getvalue(), content_type="application/pdf")


def _legal_id(collaborator: Collaborator) -> str:
    digits = str(int(hashlib.sha256(collaborator.email.encode()).hexdigest(), 16))[:12]
    if collaborator.kind in NIB_KINDS:
        return "9" + digits
    return f"AHU-{digits[:7]}.AH.01.04.Tahun 2020"


def _vet_organisations(collaborators: dict[str, Collaborator], staff, created: Counter) -> None:
    """Most organisations vetted by the demo staff; of every ten, two never asked and one is still
    waiting; of every twenty, one was refused (with the reason it is told). Through the services, as a real
    organisation and a staff member would; a second run finds them asked and does nothing."""
    organisations = sorted(
        (c for c in collaborators.values() if c.is_organisation), key=lambda c: c.email
    )
    for n, collaborator in enumerate(organisations):
        if collaborator.vetting != Vetting.NOT_ASKED or n % 10 in (8, 9):
            continue
        asked = services.submit_vetting(
            collaborator, legal_id=_legal_id(collaborator), letter=_letter()
        )
        collaborators[collaborator.email.lower()] = asked
        if n % 10 == 7:
            continue
        refused = n % 20 == 6
        collaborators[collaborator.email.lower()] = services.decide_vetting(
            asked, by=staff, vetted=not refused, reason=texts.VETTING_REFUSAL if refused else ""
        )
        created["organisations vetted" if not refused else "vettings refused"] += 1


def _write_vetting_thresholds() -> None:
    """After the demo's pledges: those already scheduled were made before the rule, as on a portal
    that turns it on; those still waiting show staff what it does."""
    for category in Category.objects.filter(slug__in=texts.VETTING_THRESHOLDS):
        if category.vetting_threshold_quantity is None and category.vetting_threshold_value is None:
            units, value = texts.VETTING_THRESHOLDS[category.slug]
            category.vetting_threshold_quantity, category.vetting_threshold_value = units, value
            category.save(update_fields=["vetting_threshold_quantity", "vetting_threshold_value"])


def _write_needs_and_pledges(plans, site_ids, opds, collaborators, staff, created: Counter):
    aid_types = {(a.category.slug, a.name): a for a in AidType.objects.select_related("category")}
    existing = set(
        Need.objects.filter(external_ref__in=[p.ref for p in plans]).values_list(
            "external_ref", flat=True
        )
    )
    new = [
        Need(
            site_id=site_ids[p.site.key],
            aid_type=aid_types[(p.category, p.aid_type)],
            title=p.title,
            description=p.description,
            quantity_needed=p.quantity,
            beneficiaries=p.beneficiaries,
            beneficiary_kind=p.beneficiary_kind,
            criteria=p.criteria,
            period_start=p.period_start,
            period_end=p.period_end,
            published=p.published,
            external_ref=p.ref,
        )
        for p in plans
        if p.ref not in existing
    ]
    needs_services.create_many(new, by=staff, reason=_("Demo data"))
    created["needs"] = len(new)
    plans_by_ref = {p.ref: p for p in plans}

    # Pledges only for needs that have none: a second run makes none.
    wanted = [p for p in plans if p.pledges]
    needs = {
        n.external_ref: n
        for n in Need.objects.filter(
            external_ref__in=[p.ref for p in wanted],
            pledges__isnull=True,
            published=True,
            is_closed=False,
        )
    }
    verified_sites = set(
        ContactPerson.objects.filter(verification_status=Verification.VERIFIED).values_list(
            "site_id", flat=True
        )
    )
    actor = services.Actor.staff(staff)
    # A closed need is closed once its pledges are made (pledging refuses it before).
    to_close = [n.pk for n in new if plans_by_ref[n.external_ref].closed]
    for p in wanted:
        need = needs.get(p.ref)
        if need is None:
            continue
        for pledge_plan in p.pledges:
            _make_pledge(
                need,
                pledge_plan,
                collaborators[pledge_plan.collaborator],
                opds,
                actor,
                need.site_id in verified_sites,
            )
            created["pledges"] += 1
    for need in Need.objects.filter(pk__in=to_close):
        # Only delivered pledges (planning._plan_pledges): nothing holds quantity, no donor is
        # affected.
        needs_services.close(need, by=staff, reason=_("Closed after its period"))
    return new


# Of the new open needs, by external_ref: every FRESHNESS_CYCLE-th from these offsets is confirmed by
# its site's contact person, given a proposed new quantity by them (pending for staff), confirmed by
# staff, or aged past its category's reconfirmation (awaiting) or past its grace too (paused), so
# every state shows on the map, the pages and the admin.
FRESHNESS_CYCLE = 10
CONFIRMED_BY_CONTACT, PROPOSED, CONFIRMED_BY_STAFF, AWAITING, PAUSED = 1, 2, 4, 6, 8


def _confirm_and_age(new_needs, staff, created: Counter) -> None:
    needs = Need.objects.filter(pk__in=[n.pk for n in new_needs]).open().published()
    verified = {
        c.site_id: c
        for c in ContactPerson.objects.filter(verification_status=Verification.VERIFIED)
    }
    aged = {}
    for i, need in enumerate(needs.select_related("aid_type__category").order_by("external_ref")):
        category, turn = need.aid_type.category, i % FRESHNESS_CYCLE
        contact = verified.get(need.site_id)
        if turn == CONFIRMED_BY_CONTACT and contact is not None:
            needs_services.confirm(need, by_contact=True)
            created["needs confirmed"] += 1
        elif turn == PROPOSED and contact is not None:
            needs_services.propose_change(
                need,
                contact=contact,
                kind=Proposal.Kind.QUANTITY,
                quantity=need.quantity_needed + 10,
                note=_("Ten more families moved in."),
            )
            created["proposals"] += 1
        elif turn == CONFIRMED_BY_STAFF:
            needs_services.confirm(need, by=staff)
            created["needs confirmed"] += 1
        elif turn == AWAITING:
            aged[need.pk] = category.reconfirm_days + 1
        elif turn == PAUSED:
            aged[need.pk] = category.reconfirm_days + category.reconfirm_grace_days + 1
    age_needs(aged)
    created["needs stale"] = len(aged)


# Of the deliveries this load made at sites with a verified contact person, by id: most are confirmed
# by that contact, every RECEIPT_CYCLE-th from these offsets disputed (one of each two resolved by
# staff) or left unanswered (unconfirmed, being from 2020), so every state shows on the pages.
RECEIPT_CYCLE = 6
DISPUTED, UNANSWERED = 2, 5


def _answer_deliveries(after_pledge: int, staff, created: Counter) -> None:
    deliveries = (
        Delivery.objects.filter(pledge_id__gt=after_pledge, receipt__isnull=True)
        .select_related("pledge__need__site")
        .order_by("pk")
    )
    contacts = {
        c.site_id: c
        for c in ContactPerson.objects.filter(verification_status=Verification.VERIFIED)
    }
    disputes = 0
    checker = demo_staff(CHECKER_USERNAME, "Pemeriksa")
    for i, delivery in enumerate(deliveries):
        contact = contacts.get(delivery.pledge.need.site_id)
        turn = i % RECEIPT_CYCLE
        if turn in (0, UNANSWERED):
            # A colleague's second check, of a third of them: of some the recipients say nothing,
            # and the check alone verifies them.
            services.check_delivery(delivery, by=checker)
            created["second checks"] += 1
        if contact is None or turn == UNANSWERED:
            continue
        if turn == DISPUTED:
            receipt = services.record_receipt(
                delivery,
                contact=contact,
                outcome=Receipt.Outcome.LESS,
                quantity_received=max(delivery.quantity - 1, 0),
                received_by=contact.name,
                note=_("One package was damaged on the way."),
            )
            disputes += 1
            if disputes % 2:
                services.resolve_dispute(
                    receipt, by=staff, resolution=_("The donor replaced the damaged package.")
                )
        else:
            services.record_receipt(
                delivery,
                contact=contact,
                outcome=Receipt.Outcome.RECEIVED,
                received_by=contact.name,
            )
        created["receipts"] += 1


def _write_series(staff, created: Counter) -> None:
    """A recurring need at the first site with a verified contact person and open needs (the one
    `make run` prints the link of), its month ending in three days, so its contact person can
    confirm the next. Once: a second load makes none."""
    if NeedSeries.objects.exists():
        return
    contact = (
        ContactPerson.objects.filter(
            verification_status=Verification.VERIFIED,
            site__in=Need.objects.open().published().values("site_id"),
        )
        .select_related("site")
        .order_by("site__name", "pk")
        .first()
    )
    if contact is None:
        return
    aid_type = AidType.objects.get(category__slug="pangan", name="Paket sembako")
    needs_services.start_series(
        by=staff,
        site=contact.site,
        aid_type=aid_type,
        title=_("Monthly staple-food packages for %(site)s") % {"site": contact.site.name},
        quantity_needed=350,
        beneficiaries=350,
        start=timezone.localdate() - datetime.timedelta(days=27),
    )
    created["recurring needs"] += 1


def _make_pledge(need, planned: PledgePlan, collaborator, opds, actor, site_verified: bool) -> None:
    """One pledge along its planned path, through the same services staff and donors use."""
    reach, status, deliveries = planned.reach, planned.status, planned.deliveries
    if reach == S.SCHEDULED and not site_verified:
        # Only if the database differs from the plan (contacts made by hand, say): stop short.
        reach, deliveries = S.CONFIRMED, []
        status = S.CONFIRMED if status in (S.SCHEDULED, S.DELIVERED) else status
    pledge = services.pledge(
        need=need, collaborator=collaborator, quantity=planned.quantity, message=planned.message
    )
    if reach in (S.CONFIRMED, S.SCHEDULED):
        pledge = services.transition(pledge, S.CONFIRMED, actor=actor)
    if reach == S.SCHEDULED:
        pledge = services.transition(
            pledge,
            S.SCHEDULED,
            actor=actor,
            scheduled_for=planned.scheduled_for,
            # Only the OPDs that facilitated a delivery exist in the demo.
            scheduled_opd=opds.get(planned.opd),
            reason=texts.SCHEDULE_REASON,
        )
    for quantity, day in deliveries:
        services.record_delivery(
            pledge,
            quantity=quantity,
            delivered_on=day,
            opd=opds[planned.opd],
            actor=actor,
            note=texts.DELIVERY_NOTE.format(opd=planned.opd),
        )
    if status == S.CANCELLED:
        services.cancel(pledge, reason=planned.reason)
    elif status == S.REJECTED:
        services.transition(pledge, S.REJECTED, actor=actor, reason=planned.reason)
    elif status == S.EXPIRED:
        services.transition(pledge, S.EXPIRED, actor=services.SYSTEM, reason=planned.reason)
