"""What the public ledger says of pledges, deliveries and the recipients' word (docs/ledger.md).
Public fields only: a pledge by its number (never its private token), a collaborator by its id (its
public name is published beside the ledger, and erasable), no e-mail, phone or contact's name."""

from donations.models import Collaborator, Delivery, Pledge, Receipt
from ledger.services import record


def collaborator_state(collaborator: Collaborator) -> dict:
    """Keyed by its public id, with no name: a change of public name shows as an entry whose data
    did not change (the name itself is in `ledger_names`, which erasure may change)."""
    return {
        "id": collaborator.public_id,
        "kind": collaborator.kind,
        "anonymous": collaborator.is_anonymous,
        "vetting": collaborator.vetting,
    }


def pledge_state(pledge: Pledge) -> dict:
    return {
        "id": pledge.pk,
        "need": pledge.need_id,
        "collaborator": pledge.collaborator.public_id,
        "status": pledge.status,
        "quantity": pledge.quantity,
        "delivered": pledge.quantity_delivered,
    }


def delivery_state(delivery: Delivery) -> dict:
    return {
        "id": delivery.pk,
        "pledge": delivery.pledge_id,
        "quantity": delivery.quantity,
        # str(): ISO 8601 for a date, and as given for the ISO text a caller may have passed.
        "delivered_on": str(delivery.delivered_on),
        "opd": delivery.opd_id,
        "checked": delivery.checked_at is not None,
    }


def receipt_state(receipt: Receipt) -> dict:
    """Keyed by its delivery: one receipt per delivery. Who received it stays private."""
    return {
        "id": receipt.delivery_id,
        "outcome": receipt.outcome,
        "quantity_received": receipt.quantity_received,
        "resolved": receipt.resolved_at is not None,
    }


def record_collaborator(collaborator: Collaborator) -> None:
    record("collaborator", collaborator_state(collaborator))


def record_pledge(pledge: Pledge) -> None:
    record("pledge", pledge_state(pledge))


def record_delivery(delivery: Delivery) -> None:
    record("delivery", delivery_state(delivery))


def record_receipt(receipt: Receipt) -> None:
    record("receipt", receipt_state(receipt))
