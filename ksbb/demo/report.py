"""What is in the database, for the load_demo command (`-v 2`) and the demo's tests. Reads only."""

from collections import Counter

from django.apps import apps
from django.db.models import Count

from donations.models import Collaborator, Delivery, Opd, Pledge
from locations.models import ContactPerson, Region, Site
from needs.models import Need


def row_counts() -> dict[str, int]:
    """Rows per installed model, e.g. {"locations.Site": 812}."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def summary() -> list[str]:
    """A few lines of totals for the command's output."""
    regions = Counter(Region.objects.values_list("level", flat=True))
    with_boundary = Region.objects.kelurahan().filter(boundary__isnull=False).count()
    sites = Counter(Site.objects.values_list("kind", flat=True))
    approximate = Site.objects.filter(location_is_approximate=True).count()
    contacts = Counter(ContactPerson.objects.values_list("verification_status", flat=True))
    needs = Counter(Need.objects.values_list("aid_type__category__slug", flat=True))
    pledges = Counter(Pledge.objects.values_list("status", flat=True))
    per_category = Pledge.objects.values("need__aid_type__category__slug").annotate(
        n=Count("collaborator", distinct=True)
    )
    donors = {row["need__aid_type__category__slug"]: row["n"] for row in per_category}

    def join(counter) -> str:
        return ", ".join(f"{n} {key}" for key, n in sorted(counter.items()))

    return [
        f"Regions: {regions['kota']} kota, {regions['kecamatan']} kecamatan, "
        f"{regions['kelurahan']} kelurahan ({with_boundary} with a boundary).",
        f"Sites: {sum(sites.values())} ({join(sites)}; {approximate} approximate).",
        f"Contacts: {sum(contacts.values())} ({join(contacts)}).",
        f"OPDs: {Opd.objects.count()}. Collaborators: {Collaborator.objects.count()} "
        f"(by category with pledges: {join(donors)}).",
        f"Needs: {sum(needs.values())} ({join(needs)}).",
        f"Pledges: {sum(pledges.values())} ({join(pledges)}); deliveries: {Delivery.objects.count()}.",
    ]
