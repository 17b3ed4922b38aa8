from django.db.models import Count, Q, Sum
from django.shortcuts import render

from donations.models import Collaborator, Delivery
from ksbb import snapshots
from locations.models import Region
from needs.models import Category, Need, NeedStatus

OPEN = [NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED]


def home(request):
    ctx = snapshots.snapshot("home", (), _figures)
    return render(request, "ksbb/home.html", ctx)


def _figures() -> dict:
    """The home page's counts: a dict of plain values, so a snapshot can keep it."""
    open_needs = Q(aid_types__needs__published=True, aid_types__needs__status__in=OPEN)
    categories = (
        Category.objects.filter(is_active=True)
        .annotate(open_needs=Count("aid_types__needs", filter=open_needs))
        .order_by("order", "name")
    )
    needs = Need.objects.published().aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN))
    )
    return {
        "categories": list(categories),
        "needs_total": needs["total"],
        "needs_open": needs["open"],
        "collaborators": Collaborator.objects.filter(pledges__isnull=False).distinct().count(),
        "delivered": Delivery.objects.aggregate(n=Sum("quantity"))["n"] or 0,
        # Without their boundaries: the page shows names and counts, and the snapshot keeps rows.
        "kota_list": list(
            Region.objects.kota()
            .defer("boundary")
            .annotate(
                open_needs=Count(
                    "children__children__sites__needs",
                    filter=Q(
                        children__children__sites__needs__published=True,
                        children__children__sites__needs__status__in=OPEN,
                    ),
                )
            )
        ),
    }
