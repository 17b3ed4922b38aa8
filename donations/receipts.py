"""A donor's receipts, as PDF (docs/pledges.md, "Receipts"): one for a pledge once something of it
was delivered, and a yearly summary of everything delivered in a year. Both are the donor's private
copy: they name the collaborator in full, say how the public sees them, and carry a verification
link (and its QR code) to each pledge's public record, which anyone can open without trusting the
donor or the portal.

Made on request from what the database holds now, in the language asked for; nothing is stored."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from donations.models import Collaborator, Delivery, Pledge
from ksbb.lib.pdf import Document


def record_url(pledge: Pledge) -> str:
    """The public record of the pledge, at the portal's public address (never the request's Host)."""
    base = settings.KSBB_BASE_URL.rstrip("/")
    return base + reverse("transparency:pledge_record", args=[pledge.pk])


def _date(day) -> str:
    return formats.date_format(day, "j F Y")


def _quantity(n: int, unit: str) -> str:
    return f"{formats.number_format(n, force_grouping=True)} {unit}"


def _rupiah(value: int) -> str:
    return "Rp " + formats.number_format(value, force_grouping=True)


def _place(pledge: Pledge) -> str:
    site = pledge.need.site
    regions = ", ".join(r.display_name for r in reversed(site.kelurahan.ancestors()))
    return f"{site.name}, {regions}"


def _name(collaborator: Collaborator) -> str:
    return f"{collaborator.public_name} ({collaborator.get_kind_display()})"


def _word(delivery: Delivery) -> str:
    """What the recipients said, and whether a second staff member checked it."""
    said = str(delivery.get_receipt_state_display())
    if delivery.checked_at is not None:
        said = _("%(said)s; checked by a second staff member") % {"said": said}
    return said


def receipt_pledges():
    """The pledges with what a receipt reads, in as few queries as a page of them needs."""
    deliveries = Delivery.objects.select_related("opd", "receipt").order_by("delivered_on", "pk")
    return Pledge.objects.with_places().prefetch_related(
        Prefetch("deliveries", queryset=deliveries)
    )


def has_receipt(pledge: Pledge) -> bool:
    return pledge.quantity_delivered > 0


def pledge_receipt(pledge: Pledge, *, language: str) -> bytes:
    """The receipt of one pledge (something of it must be delivered)."""
    with override(language):
        need, unit = pledge.need, pledge.need.aid_type.unit
        collaborator = pledge.collaborator
        doc = Document(
            _("KSBB receipt, pledge no. %(number)s") % {"number": pledge.pk},
            language=language,
            subject=need.title,
        )
        doc.heading(_("Receipt of aid delivered"))
        doc.paragraph(
            _(
                "Kolaborasi Sosial Berskala Besar (KSBB), Jakarta. This receipt states what the "
                "portal records of pledge no. %(number)s; its public record can be checked by "
                "anyone at the address below."
            )
            % {"number": pledge.pk}
        )
        doc.facts(
            [
                (_("Collaborator"), _name(collaborator)),
                (_("Shown publicly as"), str(collaborator.display_name)),
                (_("Need"), need.title),
                (_("Category"), f"{need.aid_type.category.name}: {need.aid_type.name}"),
                (_("Place"), _place(pledge)),
                (_("Pledged"), f"{_quantity(pledge.quantity, unit)}, {_date(pledge.created_at)}"),
                (_("Delivered"), _quantity(pledge.quantity_delivered, unit)),
                (_("Status"), pledge.get_status_display()),
            ]
        )
        doc.heading(_("Deliveries"), level=2)
        doc.table(
            [_("Date"), _("Quantity"), _("Facilitating OPD"), _("Recipients")],
            [
                [_date(d.delivered_on), _quantity(d.quantity, unit), d.opd.name, _word(d)]
                for d in pledge.deliveries.all()
            ],
            [0.18, 0.17, 0.3, 0.35],
        )
        _closing(doc, [pledge])
        return doc.render()


@dataclass
class YearLine:
    pledge: Pledge
    delivered: int
    dates: list[datetime.date]
    words: list[str]


def delivered_in(collaborator: Collaborator, year: int) -> list[YearLine]:
    """What was delivered of the collaborator's pledges in `year`, pledge by pledge."""
    lines = []
    for pledge in (
        receipt_pledges()
        .filter(collaborator=collaborator, deliveries__delivered_on__year=year)
        .distinct()
        .order_by("pk")
    ):
        ones = [d for d in pledge.deliveries.all() if d.delivered_on.year == year]
        lines.append(
            YearLine(
                pledge,
                sum(d.quantity for d in ones),
                [d.delivered_on for d in ones],
                [_word(d) for d in ones],
            )
        )
    return lines


def delivery_years(collaborator: Collaborator) -> list[int]:
    """The years in which something of the collaborator's pledges was delivered, newest first."""
    days = Delivery.objects.filter(pledge__collaborator=collaborator).dates(
        "delivered_on", "year", order="DESC"
    )
    return [day.year for day in days]


def yearly_summary(collaborator: Collaborator, year: int, *, language: str) -> bytes:
    """Everything delivered of the collaborator's pledges in `year` (for a CSR report)."""
    with override(language):
        lines = delivered_in(collaborator, year)
        doc = Document(
            _("KSBB yearly summary %(year)s") % {"year": year},
            language=language,
            subject=collaborator.public_name,
        )
        doc.heading(_("Aid delivered in %(year)s") % {"year": year})
        doc.facts(
            [
                (_("Collaborator"), _name(collaborator)),
                (_("Shown publicly as"), str(collaborator.display_name)),
                (_("Pledges with a delivery"), str(len(lines))),
            ]
        )
        totals: dict[tuple[str, str], int] = defaultdict(int)
        value = 0
        for line in lines:
            aid_type = line.pledge.need.aid_type
            totals[(aid_type.name, aid_type.unit)] += line.delivered
            value += line.delivered * (aid_type.unit_value or 0)
        if totals:
            doc.heading(_("In all"), level=2)
            rows = [[name, _quantity(n, unit)] for (name, unit), n in sorted(totals.items())]
            if value:
                rows.append(
                    [_("Estimated value, at the portal's reference prices"), _rupiah(value)]
                )
            doc.table([_("Aid"), _("Delivered")], rows, [0.6, 0.4])
        doc.heading(_("Pledge by pledge"), level=2)
        if not lines:
            doc.paragraph(_("Nothing of your pledges was delivered in %(year)s.") % {"year": year})
        doc.table(
            [_("Pledge"), _("Need and place"), _("Delivered"), _("Dates"), _("Recipients")],
            [
                [
                    _("no. %(number)s") % {"number": line.pledge.pk},
                    f"{line.pledge.need.title}\n{_place(line.pledge)}",
                    _quantity(line.delivered, line.pledge.need.aid_type.unit),
                    ", ".join(_date(d) for d in line.dates),
                    "; ".join(dict.fromkeys(line.words)),
                ]
                for line in lines
            ],
            [0.1, 0.36, 0.14, 0.18, 0.22],
        )
        _closing(doc, [line.pledge for line in lines])
        return doc.render()


def _closing(doc: Document, pledges: list[Pledge]) -> None:
    """Where each pledge's public record is, and when and from what the document was made."""
    if len(pledges) == 1:
        doc.qr(
            record_url(pledges[0]),
            _("Check this receipt: the pledge's public record on the KSBB portal."),
        )
    elif pledges:
        doc.heading(_("Check it"), level=2)
        doc.paragraph(
            _("Each pledge's public record, which anyone can open:")
            + "\n"
            + "\n".join(
                f"{_('no. %(number)s') % {'number': p.pk}}: {record_url(p)}" for p in pledges
            )
        )
    doc.paragraph(
        _(
            "Made on %(date)s from the portal's records. It is a statement of aid given and "
            "received, not a tax document."
        )
        % {"date": _date(timezone.localdate())},
        small=True,
    )
