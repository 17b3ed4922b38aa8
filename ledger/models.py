"""The public ledger (docs/ledger.md): every publicly visible change, in order, hash-chained.

Services append an `Event` in the transaction of the change itself; the worker then seals the
committed events, in order, into `Entry` rows numbered without gaps, each carrying
SHA-256(previous hash ‖ canonical JSON) (ledger.verifier, the one definition). Appending never waits
on another transaction: the chain is built by one sealer at a time, after the commits.

PostgreSQL refuses to change or delete an entry (a trigger, migration 0001), whoever asks. The
ledger holds public fields only, and no names at all: a collaborator is its id, its public name is
published beside the ledger and can be erased without touching a hash.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext_lazy as _

HASH_PATTERN = r"^[0-9a-f]{64}$"


class Event(models.Model):
    """A change written with its transaction, waiting for the sealer (ledger.services.seal)."""

    kind = models.CharField(_("kind"), max_length=20)
    at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"))

    class Meta:
        verbose_name = _("ledger event awaiting its seal")
        verbose_name_plural = _("ledger events awaiting their seal")

    def __str__(self):
        return f"{self.kind} {self.data.get('id')}"


class Entry(models.Model):
    """One sealed entry of the chain: append-only, in the database itself."""

    seq = models.BigIntegerField(_("number"), primary_key=True)
    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20)
    data = models.JSONField(_("data"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    sealed_at = models.DateTimeField(_("sealed"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gt=0), name="ledger_entry_seq_positive"),
            models.CheckConstraint(
                condition=Q(hash__regex=HASH_PATTERN) & Q(prev_hash__regex=HASH_PATTERN),
                name="ledger_entry_hashes_are_sha256_hex",
            ),
            models.UniqueConstraint(fields=["prev_hash"], name="ledger_entry_one_successor"),
        ]
        indexes = [
            # A pledge's public record lists the entries about it (transparency.pledge_record):
            # its own and its receipts' by their id, its deliveries' by their pledge.
            models.Index(F("kind"), KeyTransform("id", "data"), name="ledger_entry_kind_id_idx"),
            models.Index(
                KeyTransform("pledge", "data"),
                name="ledger_delivery_pledge_idx",
                condition=Q(kind="delivery"),
            ),
        ]

    def __str__(self):
        return f"#{self.seq} {self.kind}"

    def as_public(self) -> dict:
        """The entry as downloaded and hashed (ledger.verifier.canonical)."""
        from ledger.chain import public_entry

        return public_entry(self)


class Checkpoint(models.Model):
    """The head of the chain at the end of a day (Jakarta time), published for anyone to keep."""

    day = models.DateField(_("day"), unique=True)
    seq = models.BigIntegerField(_("last entry"))
    hash = models.CharField(_("hash"), max_length=64)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hash__regex=HASH_PATTERN), name="ledger_checkpoint_hash_is_sha256_hex"
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=0), name="ledger_checkpoint_seq_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.day}: {self.seq}:{self.hash}"
