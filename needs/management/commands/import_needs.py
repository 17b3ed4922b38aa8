import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from locations.spreadsheets import ImportFileError
from needs.imports import import_needs


class Command(BaseCommand):
    help = (
        "Import needs and their sites from a CSV (UTF-8, comma or semicolon) or XLSX file; "
        "see docs/import.md for the columns. Idempotent: a row updates its need by external_ref."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )

    def handle(self, file, dry_run, **options):
        tty = sys.stderr.isatty()

        def progress(rows: int) -> None:
            if tty:
                self.stderr.write(f"\r{rows:,} rows…", ending="")

        try:
            report = import_needs(file, dry_run=dry_run, progress=progress)
        except ImportFileError as e:
            raise CommandError(f"{e} Nothing was imported.") from e
        if tty:
            self.stderr.write("")
        counts = report.counts
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{len(report.results)} rows: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['refused']} refused; "
            f"{report.approximate_sites} new sites placed approximately."
        )
        for row in report.refused:
            self.stdout.write(f"  line {row.line} ({row.external_ref or '–'}): {row.reason}")
