"""A pledge's public record: what anyone may check about one pledge, by the number the public
ledger gives it (a donor's receipt links here, with a QR code). Public fields only: the need, the
collaborator as shown publicly, the quantities, the deliveries and what the recipients said, and the
ledger entries that recorded each step, so the reader can find them in the downloaded chain."""

from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from donations.models import Delivery, Pledge
from ksbb.lib.http_cache import shared_page
from ledger.models import Entry


def ledger_entries(pledge: Pledge, delivery_ids: list[int]):
    """The sealed entries about the pledge, its deliveries and their receipts, in chain order."""
    about = Q(kind="pledge", data__id=pledge.pk) | Q(kind="delivery", data__pledge=pledge.pk)
    if delivery_ids:
        about |= Q(kind="receipt", data__id__in=delivery_ids)
    return Entry.objects.filter(about).only("seq", "at", "kind", "hash").order_by("seq")


@shared_page()
def pledge_record(request, pk: int):
    pledge = get_object_or_404(
        Pledge.objects.filter(need__published=True)
        .with_places()
        .defer("message", "token", "status_reason"),
        pk=pk,
    )
    deliveries = list(
        Delivery.objects.filter(pledge=pledge)
        .select_related("opd", "receipt")
        .order_by("delivered_on", "pk")
    )
    ctx = {
        "pledge": pledge,
        "need": pledge.need,
        "deliveries": deliveries,
        "entries": ledger_entries(pledge, [d.pk for d in deliveries]),
    }
    return render(request, "transparency/pledge_record.html", ctx)
