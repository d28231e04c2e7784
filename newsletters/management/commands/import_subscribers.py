from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from newsletters.services import imports


class Command(BaseCommand):
    help = (
        "Import newsletter subscribers from a CSV file (header email,language,topics) whose consent "
        "was collected elsewhere. Nothing is imported if any row is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument("--source", required=True, help="Where the list and its consent come from.")
        parser.add_argument("--consent-text", default="", help="The text the people on the list agreed to.")

    def handle(self, *args, path: Path, source: str, consent_text: str, **options):
        try:
            with path.open("rb") as csv_file:
                result = imports.import_subscribers(csv_file, source=source, consent_text=consent_text)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        for error in result.errors:
            self.stderr.write(f"Row {error.row}: {error.message}")
        if not result.ok:
            raise CommandError(f"Nothing imported: {len(result.errors)} problem(s) in the file.")
        for row in result.skipped:
            self.stdout.write(f"Row {row.row}: skipped {row.email} ({row.reason})")
        self.stdout.write(f"Imported {result.created} subscriber(s); skipped {len(result.skipped)}.")
