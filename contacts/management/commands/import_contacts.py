from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from contacts.importing import Action, ImportPlan, account_for_import, import_contacts

MAX_LISTED_ROWS = 50


class Command(BaseCommand):
    help = (
        "Import people from a CSV or XLSX file into accounts: all rows or none. "
        "The format is described in docs/contacts-import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .csv (UTF-8, comma or semicolon) or .xlsx")
        parser.add_argument(
            "--account",
            metavar="NAME",
            help="Import every row into this account; the file's account column may be omitted.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="Import as this user: only their accounts, and history names them. Without "
            "it the import may write to any account and history names nobody.",
        )

    def handle(self, *args, file: Path, account: str | None, dry_run: bool, as_email, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        user = None
        if as_email:
            user = User.objects.filter(email__iexact=as_email.strip(), is_active=True).first()
            if user is None:
                raise CommandError(f"No active user has the email “{as_email}”.")
        target = None
        if account:
            target = account_for_import(name=account, user=user)
            if target is None:
                raise CommandError(f"Unknown account “{account}”, or you may not add people to it.")

        plan = import_contacts(data, filename=file.name, user=user, account=target, dry_run=dry_run)
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
        rows = plan.rows if verbosity >= 2 else plan.changed_rows
        if verbosity >= 1:
            for row in rows[:MAX_LISTED_ROWS] if verbosity < 2 else rows:
                line = f"  row {row.row}: {row.action} {row.name} <{row.email}>"
                if row.action is Action.UPDATE:
                    line += ": " + "; ".join(
                        f"{change.column} “{change.old}” → “{change.new}”" for change in row.changes
                    )
                self.stdout.write(line)
            if len(rows) > MAX_LISTED_ROWS and verbosity < 2:
                self.stdout.write(f"  … and {len(rows) - MAX_LISTED_ROWS} more (-v 2 lists all)")
        verb = "would be" if dry_run else "were"
        summary = (
            f"{plan.filename}: {plan.created} {verb} created, {plan.updated} {verb} updated, "
            f"{plan.unchanged} unchanged."
        )
        if dry_run:
            self.stdout.write(summary + " Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(summary))
