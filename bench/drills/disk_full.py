"""Drill: the disk for uploads is full.

Staff record a delivery with an evidence photo on the pledge's admin page while the media folder
has no space left: a real, tiny tmpfs filled to the brim (as root, where mounting is allowed),
or else a storage whose writes go through /dev/full. Promises checked:
- the delivery fails with a clear message on the photo field;
- nothing is half-written: no Delivery row, the pledge's and need's counters and history unchanged,
  no file (not even an empty one) left in the media folder;
- with space again, the same delivery is recorded with its photo (its pixels: the portal keeps
  nothing else of a photo).
"""

import datetime
import errno
import html
import io
import os
import random
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.drills.common import Cluster, Verdict, run, say, seed, setup_django

QUANTITY = 15
ERRORS = re.compile(r'<ul class="errorlist"[^>]*>\s*<li>(.*?)</li>', re.S)


def _use_storage(backend: str) -> None:
    from django.conf import settings
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    settings.STORAGES["default"]["BACKEND"] = backend
    storages._storages.clear()
    default_storage._wrapped = empty  # the evidence field's storage is this lazy object


@contextmanager
def full_disk(media: Path):
    """Make `media` a full disk. Yields how, and a function that makes room again."""
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(media)],
            capture_output=True,
        ).returncode
        == 0
    )
    filler = media / "filler"
    try:
        if mounted:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(fd, b"\0" * 4096):
                    pass
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
            finally:
                os.close(fd)
            yield (
                f"a 64 KiB tmpfs at {media}, filled up ({filler.stat().st_size:,} bytes)",
                filler.unlink,
            )
        else:
            backend = _storage_backend()
            _use_storage("tests.donations.full_disk.FullDiskStorage")
            yield (
                f"{media} with writes through /dev/full (mounting a tmpfs was not possible)",
                lambda: _use_storage(backend),
            )
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(media)], check=False)


def _storage_backend() -> str:
    from django.conf import settings

    return settings.STORAGES["default"]["BACKEND"]


def _photo() -> bytes:
    from PIL import Image

    rng = random.Random(28)
    image = Image.new("RGB", (96, 96))
    image.putdata([(rng.randrange(256), rng.randrange(256), 0) for _ in range(96 * 96)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def main() -> int:
    verdict = Verdict("Disk full drill")
    say("Drill: the disk for uploads is full")
    media = Path(tempfile.mkdtemp(prefix="ksbb-drill-media-"))
    try:
        with Cluster() as cluster:
            setup_django(cluster.url, MEDIA_ROOT=str(media), ALLOWED_HOSTS="testserver")
            need_id = seed(20)[0]
            state, deliver = _scene(need_id)
            photo = _photo()
            with full_disk(media) as (how, make_room):
                say(f"  media folder: {how}")
                before = state()
                response = deliver(photo)
                errors = ERRORS.findall(response.content.decode())
                message = " ".join(html.unescape(e) for e in errors)
                verdict.check(
                    response.status_code == 200 and "could not be stored" in message,
                    "the delivery fails with a clear message",
                    f"HTTP {response.status_code}; the form says: “{message}”",
                )
                left = [p.name for p in media.rglob("*") if p.is_file() and p.name != "filler"]
                verdict.check(
                    state() == before and not left,
                    "nothing is half-written",
                    f"deliveries, counters, history and mails before {before}, after {state()}; "
                    f"files left in the media folder: {left or 'none'}",
                )
                make_room()
                response = deliver(photo)
                from donations.models import Delivery

                delivery = Delivery.objects.first()
                stored = media / delivery.evidence.name if delivery and delivery.evidence else None
                verdict.check(
                    response.status_code == 302
                    and stored is not None
                    and _same_picture(stored.read_bytes(), photo)
                    and state()[1] == before[1] + QUANTITY,
                    "with space again, the same delivery is recorded with its photo",
                    f"HTTP {response.status_code}; photo {stored.name if stored else 'missing'} "
                    f"({stored.stat().st_size if stored else 0:,} bytes); counters now {state()}",
                )
    finally:
        shutil.rmtree(media, ignore_errors=True)
    return verdict.exit_code()


def _same_picture(stored: bytes, uploaded: bytes) -> bool:
    """The stored photo shows what was uploaded. Not the same bytes: the portal keeps a photo's
    pixels only, encoded again (ksbb.lib.photos); this PNG is lossless, so its pixels are equal."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(uploaded)) as sent:
        return (
            kept.size == sent.size
            and kept.convert("RGB").tobytes() == sent.convert("RGB").tobytes()
        )


def _scene(need_id: int):
    """A scheduled pledge of 40 on the need, the bureau's staff member, and two helpers: the
    state a failed delivery must not change, and a delivery posted through the admin page."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from donations import services
    from donations.models import Collaborator, Delivery, Opd, OutboundMail, Pledge, PledgeEvent
    from locations.models import ContactPerson
    from locations.services import verify_contact
    from needs.models import Need

    staff = get_user_model().objects.create_superuser("drill-staff", "staff@drill.invalid", "x")
    need = Need.objects.get(pk=need_id)
    donor = Collaborator.objects.create(
        public_name="PT Latihan", kind="company", email="donor@drill.invalid"
    )
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    contact = ContactPerson.objects.create(
        site=need.site, name="Ketua RW", role=ContactPerson.Role.RW_HEAD, phone="+6281200000001"
    )
    verify_contact(contact, "verified", by=staff)
    actor = services.Actor.staff(staff)
    services.transition(pledge, "confirmed", actor=actor)
    services.transition(pledge, "scheduled", actor=actor, scheduled_for=datetime.date(2020, 10, 26))
    opd = Opd.objects.create(name="Satpol PP (latihan)", kind="satpol_pp")
    client = Client(raise_request_exception=False)  # a server error is an answer to report
    client.force_login(staff)
    client.cookies["django_language"] = "en"

    def state() -> tuple:
        p = Pledge.objects.select_related("need").get(pk=pledge.pk)
        return (
            Delivery.objects.count(),
            p.quantity_delivered,
            p.need.quantity_delivered,
            PledgeEvent.objects.filter(pledge=p).count(),
            OutboundMail.objects.filter(pledge=p).count(),
        )

    def deliver(photo: bytes):
        return client.post(
            reverse("admin:donations_pledge_deliver", args=[pledge.pk]),
            {
                "quantity": QUANTITY,
                "delivered_on": "2020-10-30",
                "opd": opd.pk,
                "note": "Diterima Ketua RW",
                "evidence": SimpleUploadedFile("foto.png", photo, "image/png"),
            },
        )

    return state, deliver


if __name__ == "__main__":
    run(main)
