from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from locations.boundaries import BoundaryFileError, import_boundaries
from locations.models import Region
from locations.registry import RegistryError, load_regions


class Command(BaseCommand):
    help = (
        "Load Jakarta's regions from the registry (idn-area-data) and, from each GeoJSON FILE, "
        "the boundaries of the regions its features name (by Kemendagri code, else by name)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
        parser.add_argument(
            "--level",
            choices=Region.Level.values,
            help="Match names only among regions of this level (codes always match).",
        )
        parser.add_argument(
            "--no-dissolve",
            action="store_true",
            help="Leave kecamatan and kota without a boundary instead of uniting their children's.",
        )

    def handle(self, *files, **options):
        try:
            counts = load_regions()
        except RegistryError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(
            f"Regions: {Region.objects.count()} "
            f"({counts['created']} created, {counts['updated']} renamed from the registry)."
        )
        for path in options["files"]:
            try:
                report = import_boundaries(
                    path, level=options["level"], dissolve=not options["no_dissolve"]
                )
            except BoundaryFileError as e:
                raise CommandError(f"{e} Nothing was changed.") from e
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path.name}: {report.matched} matched ({report.by_code} by code, {report.by_name} by name; "
                    f"{report.unchanged} unchanged), {len(report.unmatched)} unmatched, "
                    f"{report.dissolved} parent boundaries dissolved from their children."
                )
            )
            for line in report.unmatched:
                self.stdout.write(f"  unmatched: {line}")
