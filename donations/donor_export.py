"""Everything the portal holds about one collaborator, as the JSON a donor downloads from their own
page (docs/pledges.md, "A donor's own page"): who they are, each pledge with its history and
deliveries, every mail written to them, and the alerts their address subscribed to."""

from django.db.models import Prefetch
from django.utils import timezone

from alerts import services as alert_services
from donations.models import Collaborator, Delivery, OutboundMail

FORMAT = "ksbb-donor-export/1"


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def export(collaborator: Collaborator) -> dict:
    deliveries = Delivery.objects.select_related("opd", "receipt").order_by("delivered_on", "pk")
    pledges = (
        collaborator.pledges.with_places()
        .prefetch_related("events", Prefetch("deliveries", queryset=deliveries))
        .order_by("pk")
    )
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "collaborator": {
            "public_name": collaborator.public_name,
            "shown_publicly_as": str(collaborator.display_name),
            "kind": collaborator.kind,
            "email": collaborator.email,
            "phone": collaborator.phone,
            "anonymous": collaborator.is_anonymous,
            "registered_at": _when(collaborator.created_at),
            "public_ledger_id": collaborator.public_id,
            "vetting": collaborator.vetting,
            "legal_id": collaborator.legal_id,
            "statement_letter_kept": bool(collaborator.statement_letter),
            "vetting_reason": collaborator.vetting_reason,
        },
        "pledges": [
            {
                "number": p.pk,
                "need": {"id": p.need_id, "title": p.need.title},
                "aid_type": p.need.aid_type.name,
                "site": p.need.site.name,
                "kelurahan": p.need.site.kelurahan.name,
                "quantity": p.quantity,
                "quantity_delivered": p.quantity_delivered,
                "unit": p.need.aid_type.unit,
                "status": p.status,
                "message": p.message,
                "language": p.language,
                "submitted_at": _when(p.created_at),
                "scheduled_for": p.scheduled_for.isoformat() if p.scheduled_for else None,
                "history": [
                    {
                        "at": _when(e.at),
                        "from": e.from_status,
                        "to": e.to_status,
                        "by": e.actor_label,
                        "reason": e.reason,
                        "quantity": e.quantity,
                    }
                    for e in p.events.all()
                ],
                "deliveries": [
                    {
                        "delivered_on": d.delivered_on.isoformat(),
                        "quantity": d.quantity,
                        "opd": d.opd.name,
                        "recipients": d.receipt_state(),
                    }
                    for d in p.deliveries.all()
                ],
            }
            for p in pledges
        ],
        "mails": [
            {
                "to": m.to,
                "subject": m.subject,
                "body": m.body,
                "written_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in OutboundMail.objects.filter(to__iexact=collaborator.email).order_by("pk")
        ],
        # Alerts the same address subscribed to (docs/alerts.md): erased with the donor's data.
        "alert_subscriptions": alert_services.export_address(collaborator.email),
        "erasure_requests": [
            {"requested_at": _when(r.requested_at), "completed_at": _when(r.completed_at)}
            for r in collaborator.erasure_requests.all()
        ],
    }
