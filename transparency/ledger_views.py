"""The public ledger's downloads (docs/ledger.md): the whole chain or one day of it, as JSON Lines,
and the standalone verifier that checks them."""

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

from django.db.models import QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone

from ksbb.lib.http_cache import public_data
from ledger import verifier
from ledger.chain import public_entry
from ledger.models import Checkpoint, Entry

VERIFIER = Path(verifier.__file__)
VERIFIER_NAME = "verify_ledger.py"


def _lines(entries: QuerySet) -> Iterator[str]:
    for entry in entries.iterator(chunk_size=2000):
        yield json.dumps(public_entry(entry), ensure_ascii=False, separators=(",", ":")) + "\n"


def _jsonl(entries: QuerySet, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _lines(entries), content_type="application/jsonl; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_data()
def ledger(request):
    """The whole chain, from entry 1."""
    return _jsonl(Entry.objects.order_by("seq"), "ksbb-ledger.jsonl")


@public_data()
def ledger_day(request, day: str):
    """The entries sealed after the previous day's checkpoint, up to this day's (today: up to now).
    Check it with the previous day's checkpoint: `--from SEQ:HASH`."""
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError as e:
        raise Http404 from e
    if date > timezone.localdate():
        raise Http404
    before = Checkpoint.objects.filter(day__lt=date).order_by("-day").first()
    entries = Entry.objects.filter(seq__gt=before.seq if before else 0).order_by("seq")
    this = Checkpoint.objects.filter(day=date).first()
    if this is not None:
        entries = entries.filter(seq__lte=this.seq)
    elif date < timezone.localdate() and Checkpoint.objects.filter(day__gt=date).exists():
        raise Http404  # a past day with no checkpoint of its own: before the ledger began
    return _jsonl(entries, f"ksbb-ledger-{date.isoformat()}.jsonl")


@public_data()
def ledger_verifier(request):
    """The verifier's source, to read and run: Python's standard library only."""
    response = FileResponse(VERIFIER.open("rb"), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{VERIFIER_NAME}"'
    return response
