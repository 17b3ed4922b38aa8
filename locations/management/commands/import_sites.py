from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from locations.imports import import_sites
from locations.spreadsheets import ImportFileError


class Command(BaseCommand):
    help = (
        "Import sites (RW, Loksem, schools, kampung) and their contact persons from CSV, XLSX or "
        "GeoJSON (Point features); see docs/import.md. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )

    def handle(self, file, dry_run, **options):
        try:
            report = import_sites(file, dry_run=dry_run)
        except ImportFileError as e:
            raise CommandError(f"{e} Nothing was imported.") from e
        counts, contacts = report.counts, report.contacts
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{len(report.results)} rows: {counts['created']} sites created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['refused']} refused; contact persons: "
            f"{contacts['created']} created, {contacts['updated']} updated, {contacts['unchanged']} unchanged."
        )
        for row in report.refused:
            self.stdout.write(f"  line {row.line} ({row.site or '–'}): {row.reason}")
