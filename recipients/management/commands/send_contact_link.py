"""`manage.py send_contact_link`: give a contact person a new private link, as the admin's action
does (recipients.services.send_link: the previous one is revoked, the message queued by their
channel), and print it for the operator who asked. `--demo` picks a demo site's contact person, so
that `make run` can show a newcomer what a contact person sees."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from locations.models import ContactPerson
from needs.models import Need
from recipients import services


class Command(BaseCommand):
    help = (
        "Send a contact person a new private link (revoking the one they had) and print it. "
        "Give --contact ID, or --demo (development) for a demo site with open needs."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--contact", type=int, help="The contact person's id (see the admin).")
        which.add_argument(
            "--demo",
            action="store_true",
            help="The first verified contact person of a site with open needs (DEBUG only).",
        )

    def handle(self, *args, contact=None, demo=False, **options):
        if demo:
            if not settings.DEBUG:
                raise CommandError("--demo is for development (DEBUG on).")
            person = self._demo_contact()
        else:
            person = ContactPerson.objects.select_related("site").filter(pk=contact).first()
            if person is None:
                raise CommandError(f"No contact person has the id {contact}.")
        try:
            _, token = services.send_link(person, by=None)
        except services.LinkError as e:
            raise CommandError(f"{person}: {e}") from e
        self.stdout.write(
            f"Private link of {person.name} ({person.get_role_display()}, {person.site}): "
            f"{services.link_url(token)}"
        )

    def _demo_contact(self) -> ContactPerson:
        sites = Need.objects.open().published().values("site_id")
        person = (
            ContactPerson.objects.select_related("site")
            .filter(verification_status=ContactPerson.Verification.VERIFIED, site__in=sites)
            .order_by("site__name", "pk")
            .first()
        )
        if person is None:
            raise CommandError(
                "No site with open needs has a verified contact person (load_demo?)."
            )
        return person
