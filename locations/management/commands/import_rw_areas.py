from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from locations.boundaries import BoundaryFileError
from locations.rw_areas import import_rw_areas


class Command(BaseCommand):
    help = (
        "Load RW areas (rukun warga boundaries) from each GeoJSON FILE: features naming their "
        "kelurahan's Kemendagri code (kelurahan_kode) and their RW number (rw_no). The map shades "
        "unmet need per RW with them. Load the regions first (import_regions)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--source",
            default="",
            help='Where the boundaries come from, e.g. "BPBD DKI 2012, © OpenStreetMap contributors (ODbL)".',
        )

    def handle(self, *args, **options):
        for path in options["files"]:
            try:
                report = import_rw_areas(path, source=options["source"])
            except BoundaryFileError as e:
                raise CommandError(f"{e} Nothing was changed.") from e
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path.name}: {report.created} RW areas created, {report.updated} updated, "
                    f"{report.unchanged} unchanged, {len(report.unmatched)} unmatched."
                )
            )
            for line in report.unmatched:
                self.stdout.write(f"  unmatched: {line}")
