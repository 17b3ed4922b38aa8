"""The rules of the recipients' rows that the database itself holds (every CHECK of issue 17's
models): a write that breaks one fails, whatever code path makes it."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from donations import services as donation_services
from donations.models import Receipt
from needs.models import AidType, Need, Proposal
from recipients.models import ContactLink, OutboundMessage
from tests import factories
from tests.helpers import schedule

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _refused(write, name: str):
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        write()


@pytest.mark.parametrize(
    "fields, constraint",
    [
        ({"expires_at": NOW - datetime.timedelta(days=1)}, "contactlink_expires_after_creation"),
        ({"revoked_by_id": "USER"}, "contactlink_revoker_has_time"),
        ({"last_opened_at": NOW}, "contactlink_opened_in_order"),
    ],
)
def test_a_contact_link(contact, province_staff, fields, constraint):
    fields = {k: (province_staff.pk if v == "USER" else v) for k, v in fields.items()}
    row = {
        "contact": contact,
        "selector": "s" * 16,
        "digest": "d" * 64,
        "channel": "sms",
        "created_at": NOW,
        "expires_at": NOW + datetime.timedelta(days=1),
        **fields,
    }
    _refused(lambda: ContactLink.objects.create(**row), constraint)


@pytest.mark.parametrize(
    "channel, to",
    [("whatsapp", "0812 1111 2222"), ("sms", "+0812"), ("email", "+6281211112222")],
)
def test_a_message_goes_to_an_address_of_its_channel(db, channel, to):
    _refused(
        lambda: OutboundMessage.objects.create(channel=channel, to=to, body="x"),
        "outboundmessage_to_fits_channel",
    )


def test_a_need_confirmed_by_its_contact_has_a_time(need):
    _refused(
        lambda: Need.objects.filter(pk=need.pk).update(confirmed_by_contact=True),
        "need_confirmed_by_contact_has_time",
    )


@pytest.fixture
def delivery(need, donor, province_staff):
    pledge = schedule(
        donation_services.pledge(need=need, collaborator=donor, quantity=5), province_staff
    )
    return donation_services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=pledge.scheduled_for,
        opd=factories.OpdFactory(),
        actor=donation_services.Actor.staff(province_staff),
    )


@pytest.mark.parametrize(
    "fields, constraint",
    [
        ({"outcome": "received"}, "receipt_quantity_fits_outcome"),
        ({"outcome": "not_received", "quantity_received": 0}, "receipt_quantity_fits_outcome"),
        (
            {"outcome": "received", "quantity_received": 5, "photo_public": True},
            "receipt_public_photo_exists",
        ),
        (
            {"outcome": "received", "quantity_received": 5, "resolved_at": NOW},
            "receipt_only_a_dispute_is_resolved",
        ),
        (
            {"outcome": "wrong_items", "resolution": "diganti"},
            "receipt_resolution_has_time",
        ),
    ],
)
def test_a_receipt(delivery, fields, constraint):
    _refused(lambda: Receipt.objects.create(delivery=delivery, **fields), constraint)


@pytest.mark.parametrize(
    "fields, constraint",
    [
        ({"kind": "quantity"}, "proposal_fields_fit_its_kind"),
        ({"kind": "quantity", "quantity": 0}, "proposal_fields_fit_its_kind"),
        ({"kind": "new_need", "quantity": 5, "title": " "}, "proposal_fields_fit_its_kind"),
        ({"kind": "no_longer_needed", "quantity": 5}, "proposal_fields_fit_its_kind"),
        ({"kind": "no_longer_needed", "status": "approved"}, "proposal_decided_has_time"),
        ({"kind": "no_longer_needed", "decided_at": NOW}, "proposal_decided_has_time"),
        (
            {
                "kind": "no_longer_needed",
                "created_need": "NEED",
                "status": "approved",
                "decided_at": NOW,
            },
            "proposal_created_need_on_approval",
        ),
    ],
)
def test_a_proposal(need, fields, constraint):
    row = {"site": need.site, **fields}
    if row["kind"] != "new_need":
        row["need"] = need
    else:
        row["aid_type"] = AidType.objects.first()
    row = {k: (need if v == "NEED" else v) for k, v in row.items()}
    _refused(lambda: Proposal.objects.create(**row), constraint)
