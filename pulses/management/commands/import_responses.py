from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pulses.importing import Action, ImportPlan, import_responses

MAX_LISTED_ROWS = 50


class Command(BaseCommand):
    help = (
        "Import historic pulse answers from a CSV or XLSX file (columns account, email, wave, "
        "score, keep_doing, improve, optional comment and answered_at): all rows or none. "
        "Missing waves are created as closed historic waves; importing again updates by "
        "wave and contact. See pulses/importing.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .csv (UTF-8, comma or semicolon) or .xlsx")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        plan = import_responses(data, filename=file.name, dry_run=dry_run)
        if not plan.is_valid:
            for error in plan.errors:
                self.stderr.write(str(error))
            count = len(plan.errors)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''}; nothing was imported.")
        self._report(plan, dry_run=dry_run, verbosity=options["verbosity"])

    def _report(self, plan: ImportPlan, *, dry_run: bool, verbosity: int) -> None:
        if plan.ignored_columns:
            ignored = ", ".join(f"“{name}”" for name in plan.ignored_columns)
            self.stdout.write(self.style.WARNING(f"Ignored columns: {ignored}."))
        verb = "would be" if dry_run else "were"
        if verbosity >= 1:
            for wave in plan.new_waves:
                self.stdout.write(f"  new wave “{wave.name}” opening {wave.opens_on:%Y-%m-%d}")
            rows = (
                plan.rows
                if verbosity >= 2
                else [r for r in plan.rows if r.action is not Action.UNCHANGED]
            )
            for row in rows if verbosity >= 2 else rows[:MAX_LISTED_ROWS]:
                self.stdout.write(
                    f"  row {row.row}: {row.action} {row.contact.name} <{row.contact.email}> "
                    f"in “{row.wave.name}”"
                )
            if len(rows) > MAX_LISTED_ROWS and verbosity < 2:
                self.stdout.write(f"  … and {len(rows) - MAX_LISTED_ROWS} more (-v 2 lists all)")
        summary = (
            f"{plan.filename}: {plan.created} {verb} created, {plan.updated} {verb} updated, "
            f"{plan.unchanged} unchanged; {len(plan.new_waves)} new wave"
            f"{'s' if len(plan.new_waves) != 1 else ''}."
        )
        if dry_run:
            self.stdout.write(summary + " Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(summary))
