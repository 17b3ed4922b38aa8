"""Small helpers the tests share."""

import datetime

from django.urls import reverse

from donations import services
from donations.models import Pledge
from locations.services import verify_contact
from tests import factories


def admin_url(model, view: str, *args) -> str:
    """The admin URL of `model`'s `view` ("changelist", "change", "add", …)."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def schedule(pledge: Pledge, by, on: datetime.date = datetime.date(2020, 10, 26)) -> Pledge:
    """Take a submitted pledge to scheduled as staff would: verify a contact at its site, confirm, schedule."""
    staff = services.Actor.staff(by)
    verify_contact(factories.ContactFactory(site=pledge.need.site), "verified", by=by)
    services.transition(pledge, "confirmed", actor=staff)
    return services.transition(pledge, "scheduled", actor=staff, scheduled_for=on)
