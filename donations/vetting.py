"""Vetted organisations (docs/staff.md, "Vetted organisations"): the rule that holds a large pledge
from an organisation nobody has vetted yet, and what an organisation may send to be vetted.

The rule has two forms, for its two uses: a condition on pledges in SQL (`awaits_vetting`), which
the staff queue filters and marks its rows with, and the same test on one pledge in hand (`awaits`),
which the scheduling service and the donor's page ask without a query that a planner could turn into
a scan. tests/donations/test_vetting.py checks over a generated matrix that the two always agree.
"""

import io
import re

from django.conf import settings
from django.db.models import BooleanField, Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter

from donations.models import Collaborator, Vetting
from ksbb.lib import photos

_CATEGORY = "need__aid_type__category__"
# Businesses register in OSS and get a 13-digit Nomor Induk Berusaha; foundations, associations
# and communities have a registration number in another form (e.g. AHU-0012345.AH.01.04.Tahun 2020).
NIB_KINDS = frozenset(
    {Collaborator.Kind.COMPANY, Collaborator.Kind.FINTECH, Collaborator.Kind.STATE_OWNED}
)
NIB = re.compile(r"\d{13}")
REGISTRATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{3,63}")


def over_threshold() -> Q:
    """On pledges: above its category's threshold in units, or in estimated Rupiah (the quantity
    times the aid type's reference value; without a value, only the units can say)."""
    return Q(quantity__gt=F(f"{_CATEGORY}vetting_threshold_quantity")) | Q(
        GreaterThan(
            # numeric, not bigint: a mistyped reference value must not overflow the product.
            Cast("quantity", DecimalField(max_digits=40, decimal_places=0))
            * F("need__aid_type__unit_value"),
            F(f"{_CATEGORY}vetting_threshold_value"),
        )
    )


def awaits_vetting() -> Q:
    """On pledges: from an organisation that is not vetted, and over its category's threshold. Such
    a pledge can be confirmed but not scheduled."""
    return (
        ~Q(collaborator__kind=Collaborator.Kind.INDIVIDUAL)
        & ~Q(collaborator__vetting=Vetting.VETTED)
        & over_threshold()
    )


def exceeds(quantity: int, unit_value: int | None, category) -> bool:
    """`over_threshold` for one pledge's quantity, its aid type's reference value and category."""
    units, rupiah = category.vetting_threshold_quantity, category.vetting_threshold_value
    return (units is not None and quantity > units) or (
        rupiah is not None and unit_value is not None and quantity * unit_value > rupiah
    )


def awaits(collaborator: Collaborator, quantity: int, aid_type) -> bool:
    """`awaits_vetting` for one pledge in hand (`aid_type` with its category)."""
    return (
        collaborator.is_organisation
        and not collaborator.is_vetted
        and exceeds(quantity, aid_type.unit_value, aid_type.category)
    )


def annotate(pledges):
    """`pledges` with `awaits_vetting` (True or False, never NULL) for each row."""
    return pledges.annotate(
        awaits_vetting=Case(
            When(awaits_vetting(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def clean_legal_id(value: str, kind: str) -> str:
    """The legal identity as kept: a NIB's 13 digits (spaces and dots typed between them dropped),
    or a registration number as written. Raises ValueError with the reader's message."""
    value = " ".join(value.split())
    if kind in NIB_KINDS:
        digits = re.sub(r"[\s.-]", "", value)
        if not NIB.fullmatch(digits):
            raise ValueError(_("A NIB (Nomor Induk Berusaha) has 13 digits, e.g. 9120001234567."))
        return digits
    if not REGISTRATION.fullmatch(value):
        raise ValueError(
            _(
                "Give the registration number as it is written on the deed or decree, "
                "e.g. AHU-0012345.AH.01.04.Tahun 2020 (4 to 64 letters, digits, spaces, dots, "
                "slashes or dashes)."
            )
        )
    return value


class NotALetter(ValueError):
    """An upload that is not a PDF or a photo of a letter the portal can read and keep."""


def clean_letter(upload) -> tuple[bytes, str]:
    """The statement letter as it is kept, and its extension: a PDF rewritten page by page (no
    scripts, attachments, forms or metadata carried over), or a photo encoded again from its pixels
    (ksbb.lib.photos). Raises NotALetter with the reader's message."""
    if upload.size > settings.KSBB_STATEMENT_MAX_BYTES:
        raise NotALetter(
            _("The file is larger than %(mb)s MB: send a smaller scan or photo.")
            % {"mb": settings.KSBB_STATEMENT_MAX_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    is_pdf = upload.read(5) == b"%PDF-"
    upload.seek(0)
    if is_pdf:
        return _rewritten_pdf(upload), "pdf"
    try:
        return photos.reencode(upload, max_side=settings.KSBB_STATEMENT_MAX_SIDE)
    except photos.NotAPhoto as e:
        raise NotALetter(
            _("Send the letter as a PDF, or as a JPEG, PNG or WebP photo: this file is neither.")
        ) from e


def _rewritten_pdf(upload) -> bytes:
    try:
        reader = PdfReader(upload)
        if reader.is_encrypted:
            raise NotALetter(_("The PDF is protected by a password: send it without one."))
        pages = len(reader.pages)
        if not 1 <= pages <= settings.KSBB_STATEMENT_MAX_PAGES:
            raise NotALetter(
                _("A statement letter has 1 to %(max)s pages; this PDF has %(pages)s.")
                % {"max": settings.KSBB_STATEMENT_MAX_PAGES, "pages": pages}
            )
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.remove_annotations(subtypes=None)
        out = io.BytesIO()
        writer.write(out)
    except NotALetter:
        raise
    except Exception as e:  # pypdf raises many kinds of error on a damaged or hostile file
        raise NotALetter(_("The PDF could not be read: it may be damaged. Send it again.")) from e
    return out.getvalue()
