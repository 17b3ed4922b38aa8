"""Vetted organisations (docs/staff.md, "Vetted organisations"): what an organisation sends, what
staff decide, the threshold rule that holds a large pledge until then, and the public mark."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from donations import services, vetting
from donations.models import (
    Collaborator,
    OutboundMail,
    Pledge,
    PledgeStatus,
    Vetting,
    VettingDecision,
)
from ledger import services as ledger_services
from ledger.models import Entry
from tests import factories
from tests.helpers import schedule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NIB = "9120001234567"


def pdf(pages: int = 1, *, password: str = "", script: bool = False) -> SimpleUploadedFile:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if script:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hello');"),
            }
        )
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("surat.pdf", out.getvalue(), content_type="application/pdf")


def photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    return SimpleUploadedFile("surat.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def thresholds(need):
    """Pangan: an organisation's pledge above 40 units or Rp 10,000,000 waits for its vetting."""
    category = need.aid_type.category
    category.vetting_threshold_quantity = 40
    category.vetting_threshold_value = 10_000_000
    category.save()
    return category


def stored(collaborator) -> list[str]:
    storage = Collaborator._meta.get_field("statement_letter").storage
    return storage.listdir("statements")[1] if storage.exists("statements") else []


# What an organisation may send --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "typed", "kept"),
    [
        ("company", "9120 0012 3456 7", "9120001234567"),
        ("state_owned", "9120.0012.34567", "9120001234567"),
        ("humanitarian", " AHU-0012345.AH.01.04.Tahun  2020 ", "AHU-0012345.AH.01.04.Tahun 2020"),
        ("community", "SKT 220/123/2021", "SKT 220/123/2021"),
    ],
)
def test_a_legal_identity_is_kept_in_its_plain_form(kind, typed, kept):
    assert vetting.clean_legal_id(typed, kind) == kept


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("company", "912000123456"),  # 12 digits
        ("fintech", "AHU-0012345"),  # a business has a NIB
        ("humanitarian", "ab"),
        ("community", "<script>alert(1)</script>"),
        ("community", "x" * 80),
    ],
)
def test_a_malformed_legal_identity_is_refused_with_a_reason(kind, typed):
    with pytest.raises(ValueError, match=r"\w"):
        vetting.clean_legal_id(typed, kind)


def test_a_pdf_is_kept_rewritten_without_its_scripts():
    data, ext = vetting.clean_letter(pdf(2, script=True))
    assert ext == "pdf"
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert NameObject("/OpenAction") not in reader.trailer["/Root"]
    assert b"app.alert" not in data


def test_a_photo_of_the_letter_is_kept_reencoded():
    data, ext = vetting.clean_letter(photo())
    assert ext == "jpg" and data[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: pdf(password="rahasia"), "password"),
        (lambda: pdf(11), "1 to 10 pages"),
        (lambda: SimpleUploadedFile("x.pdf", b"%PDF-1.7\n garbage"), "could not be read"),
        (lambda: SimpleUploadedFile("x.docx", b"PK\x03\x04 a word file"), "neither"),
        (lambda: SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)), "larger than"),
    ],
)
def test_what_is_no_letter_is_refused_with_a_reason(upload, message):
    with pytest.raises(vetting.NotALetter, match=message):
        vetting.clean_letter(upload())


# The services -------------------------------------------------------------------------------


def test_an_organisation_asks_and_staff_vet_it(donor, province_staff):
    asked = services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    assert asked.vetting == Vetting.PENDING and asked.legal_id == NIB
    assert asked.statement_letter.name.startswith("statements/")
    assert asked.statement_letter.name.endswith(".pdf")
    vetted = services.decide_vetting(asked, by=province_staff, vetted=True)
    assert vetted.vetting == Vetting.VETTED and vetted.is_vetted and vetted.vetted_at
    decisions = list(VettingDecision.objects.filter(collaborator=donor))
    assert [(d.vetting, d.by) for d in decisions] == [
        (Vetting.PENDING, None),
        (Vetting.VETTED, province_staff),
    ]
    told = OutboundMail.objects.filter(to=donor.email).latest("pk")
    assert "terverifikasi" in told.subject.lower(), "in the portal's language: no pledge to follow"


def test_a_refusal_needs_a_reason_and_the_organisation_may_ask_again(
    donor, province_staff, django_capture_on_commit_callbacks
):
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    with pytest.raises(services.PledgeError) as refused:
        services.decide_vetting(donor, by=province_staff, vetted=False, reason="  ")
    assert refused.value.field == "reason"
    services.decide_vetting(donor, by=province_staff, vetted=False, reason="NIB tidak cocok")
    donor.refresh_from_db()
    assert donor.vetting == Vetting.REFUSED and donor.vetting_reason == "NIB tidak cocok"
    first = donor.statement_letter.name
    with django_capture_on_commit_callbacks(execute=True):
        again = services.submit_vetting(donor, legal_id="9120007654321", letter=photo())
    assert again.vetting == Vetting.PENDING and again.vetting_reason == ""
    assert again.statement_letter.name.endswith(".jpg")
    assert stored(again) == [again.statement_letter.name.split("/")[1]], "the first is removed"
    assert first != again.statement_letter.name


def test_individuals_are_never_vetted(anonymous_donor, province_staff):
    with pytest.raises(services.PledgeError, match="Only organisations"):
        services.submit_vetting(anonymous_donor, legal_id=NIB, letter=pdf())
    with pytest.raises(services.PledgeError):
        services.decide_vetting(anonymous_donor, by=province_staff, vetted=True)
    anonymous_donor.refresh_from_db()
    assert anonymous_donor.vetting == Vetting.NOT_ASKED and stored(anonymous_donor) == []


def test_nothing_to_vet_before_the_organisation_asked(donor, province_staff):
    with pytest.raises(services.PledgeError, match="nothing to vet"):
        services.decide_vetting(donor, by=province_staff, vetted=True)


@pytest.mark.parametrize(
    ("legal_id", "letter", "field"),
    [
        ("123", pdf, "legal_id"),
        (NIB, lambda: SimpleUploadedFile("x.txt", b"hello"), "statement_letter"),
        (NIB, lambda: None, "statement_letter"),
    ],
)
def test_a_bad_request_changes_nothing_and_keeps_no_file(donor, legal_id, letter, field):
    with pytest.raises(services.PledgeError) as refused:
        services.submit_vetting(donor, legal_id=legal_id, letter=letter())
    assert refused.value.field == field
    donor.refresh_from_db()
    assert donor.vetting == Vetting.NOT_ASKED and donor.legal_id == ""
    assert stored(donor) == [] and not VettingDecision.objects.exists()


def test_a_request_that_fails_after_the_file_was_written_leaves_no_file(donor, province_staff):
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    services.decide_vetting(donor, by=province_staff, vetted=True)
    kept = stored(donor)
    with pytest.raises(services.PledgeError, match="already verified"):
        services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    assert stored(donor) == kept


# The database keeps the rules too -----------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "individual", "vetting": "vetted", "vetted_at": "2020-10-01T00:00Z"},
        {"kind": "individual", "legal_id": NIB},
        {"vetting": "pending"},  # no legal identity, no date asked
        {"vetting": "refused", "vetted_at": "2020-10-01T00:00Z"},  # no reason
        {"vetting": "vetted"},  # no date decided
    ],
)
def test_the_database_refuses_an_impossible_vetting(donor, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Collaborator.objects.filter(pk=donor.pk).update(**fields)


def test_the_database_refuses_a_decision_without_staff(donor):
    with pytest.raises(IntegrityError), transaction.atomic():
        VettingDecision.objects.create(collaborator=donor, vetting=Vetting.VETTED)


# The threshold rule -------------------------------------------------------------------------


def _awaits(pledge) -> bool:
    return services.awaiting_vetting(pledge)


def test_a_large_pledge_of_an_unvetted_organisation_waits_for_its_vetting(
    need, donor, thresholds, province_staff
):
    small = services.pledge(need=need, collaborator=donor, quantity=40)
    large = services.pledge(need=need, collaborator=donor, quantity=41)
    assert not _awaits(small) and _awaits(large)
    schedule(small, province_staff)  # at the threshold: scheduled
    actor = services.Actor.staff(province_staff)
    services.transition(large, PledgeStatus.CONFIRMED, actor=actor)  # confirmed: yes
    with pytest.raises(services.PledgeError, match="not a verified organisation") as refused:
        services.transition(
            large, PledgeStatus.SCHEDULED, actor=actor, scheduled_for=need.period_start
        )
    assert "PT Maju Bersama" in refused.value.message
    assert Pledge.objects.get(pk=large.pk).status == PledgeStatus.CONFIRMED
    told = OutboundMail.objects.filter(pledge=large).latest("pk")  # the confirmation's only mail
    assert large.private_url() in told.body and "NIB" in told.body
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    services.decide_vetting(donor, by=province_staff, vetted=True)
    scheduled = services.transition(
        large, PledgeStatus.SCHEDULED, actor=actor, scheduled_for=need.period_start
    )
    assert scheduled.status == PledgeStatus.SCHEDULED


def _value(aid_type, rupiah: int) -> None:
    aid_type.unit_value, aid_type.unit_value_source = rupiah, "Survei harga 2020"
    aid_type.unit_value_set_on = datetime.date(2020, 10, 1)
    aid_type.save()


def test_the_threshold_in_rupiah_counts_the_reference_value(need, donor, thresholds):
    _value(need.aid_type, 300_000)
    thresholds.vetting_threshold_quantity = None
    thresholds.save()
    assert not _awaits(services.pledge(need=need, collaborator=donor, quantity=33))  # 9.9 M
    assert _awaits(services.pledge(need=need, collaborator=donor, quantity=34))  # 10.2 M


def test_a_huge_reference_value_does_not_overflow_the_rule(need, donor, thresholds):
    _value(need.aid_type, 9 * 10**18)  # mistyped
    assert _awaits(services.pledge(need=need, collaborator=donor, quantity=5))


def test_without_a_threshold_nothing_waits(need, donor):
    assert not _awaits(services.pledge(need=need, collaborator=donor, quantity=100))


def test_individuals_and_vetted_organisations_never_wait(
    need, donor, anonymous_donor, thresholds, province_staff
):
    assert not _awaits(services.pledge(need=need, collaborator=anonymous_donor, quantity=50))
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    vetted = services.decide_vetting(donor, by=province_staff, vetted=True)
    assert not _awaits(services.pledge(need=need, collaborator=vetted, quantity=50))


def test_the_queue_marks_and_filters_the_pledges_that_wait(staff_client, need, donor, thresholds):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    waiting = services.pledge(need=need, collaborator=donor, quantity=60)
    other = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    response = staff_client.get("/admin/donations/pledge/")
    assert "waits for the organisation&#x27;s vetting (Not submitted)" in response.content.decode()
    listed = staff_client.get("/admin/donations/pledge/?vetting=awaits").context["cl"].result_list
    assert [p.pk for p in listed] == [waiting.pk]
    assert other.pk not in [p.pk for p in listed]


# The ledger ---------------------------------------------------------------------------------


def _collaborator_entries(collaborator) -> list[dict]:
    ledger_services.seal()
    return [
        e.data
        for e in Entry.objects.filter(
            kind="collaborator", data__id=collaborator.public_id
        ).order_by("seq")
    ]


def test_the_ledger_records_vetting_without_a_name_or_a_legal_identity(donor, province_staff):
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    services.decide_vetting(donor, by=province_staff, vetted=True)
    entries = _collaborator_entries(donor)
    assert [e["vetting"] for e in entries] == ["not_asked", "pending", "vetted"]
    assert entries[-1] == {
        "id": donor.public_id,
        "kind": "company",
        "anonymous": False,
        "vetting": "vetted",
    }
    raw = str(entries)
    assert "Maju" not in raw and NIB not in raw and donor.email not in raw


def test_erasing_an_organisation_removes_its_letter_and_legal_identity(
    donor, province_staff, django_capture_on_commit_callbacks
):
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    with django_capture_on_commit_callbacks(execute=True):
        erased = services.erase_collaborator(donor, by=province_staff, reason="Permintaan PT")
    assert erased.legal_id == "" and not erased.statement_letter
    assert erased.vetting == Vetting.NOT_ASKED  # nothing left to vet
    assert stored(erased) == []
    assert _collaborator_entries(donor)[-1]["anonymous"] is True


def test_a_vetted_organisation_stays_verified_when_erased(donor, province_staff):
    services.submit_vetting(donor, legal_id=NIB, letter=pdf())
    services.decide_vetting(donor, by=province_staff, vetted=True)
    erased = services.erase_collaborator(donor, by=province_staff, reason="Permintaan PT")
    assert erased.vetting == Vetting.VETTED and erased.legal_id == ""
    # Its papers turn out false: refused, recorded, and no mail to an address that reaches no one.
    mails = OutboundMail.objects.count()
    refused = services.decide_vetting(erased, by=province_staff, vetted=False, reason="NIB palsu")
    assert refused.vetting == Vetting.REFUSED and OutboundMail.objects.count() == mails


def test_the_rules_two_forms_agree_on_every_case(site, province_staff):
    """The queue's SQL condition and the service's test on one pledge, over every combination of
    kind, vetting, thresholds (none, units, Rupiah, both), reference value and quantity around them."""
    now = datetime.datetime(2020, 10, 1, tzinfo=datetime.UTC)
    collaborators = [
        factories.CollaboratorFactory(kind="individual"),
        factories.CollaboratorFactory(),  # not asked
        factories.CollaboratorFactory(),
        factories.CollaboratorFactory(),
        factories.CollaboratorFactory(kind="humanitarian"),
    ]
    Collaborator.objects.filter(pk=collaborators[2].pk).update(
        vetting=Vetting.PENDING, legal_id=NIB, vetting_submitted_at=now
    )
    Collaborator.objects.filter(pk__in=[collaborators[3].pk, collaborators[4].pk]).update(
        vetting=Vetting.VETTED, vetted_at=now
    )
    collaborators = list(Collaborator.objects.order_by("pk"))
    made = []
    for n, (units, rupiah) in enumerate(
        [(None, None), (40, None), (None, 10_000_000), (40, 10**7)]
    ):
        category = factories.CategoryFactory(
            slug=f"rule-{n}", vetting_threshold_quantity=units, vetting_threshold_value=rupiah
        )
        for unit_value in (None, 300_000):
            aid_type = factories.AidTypeFactory(category=category, name=f"Paket {unit_value}")
            if unit_value:
                _value(aid_type, unit_value)
            need = factories.NeedFactory(site=site, aid_type=aid_type, quantity_needed=10_000)
            for collaborator in collaborators:
                for quantity in (33, 34, 40, 41):
                    made.append(
                        services.pledge(need=need, collaborator=collaborator, quantity=quantity)
                    )
    in_sql = dict(
        vetting.annotate(Pledge.objects.filter(pk__in=[p.pk for p in made])).values_list(
            "pk", "awaits_vetting"
        )
    )
    in_hand = {
        p.pk: services.awaiting_vetting(Pledge.objects.select_related("collaborator").get(pk=p.pk))
        for p in made
    }
    assert in_sql == in_hand
    assert 0 < sum(in_hand.values()) < len(made), "the matrix holds both answers"
