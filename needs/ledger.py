"""What the public ledger says of a need (docs/ledger.md): its public state after each change."""

from ledger.services import record, record_many
from needs.models import Need


def need_state(need: Need) -> dict:
    """The need's own public fields. Its counters are not written: they follow from its pledges'
    entries, and its status from those, as the database's generated column derives it
    (ledger.verifier.need_counters, need_status); so a pledge costs one entry, not two."""
    return {
        "id": need.pk,
        "site": need.site_id,
        "aid_type": need.aid_type_id,
        "quantity_needed": need.quantity_needed,
        "beneficiaries": need.beneficiaries,
        "published": need.published,
        "closed": need.is_closed,
    }


def record_need(need: Need) -> None:
    record("need", need_state(need))


def record_needs(needs: list[Need]) -> None:
    record_many("need", [need_state(need) for need in needs])
