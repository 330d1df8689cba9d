"""Export the latest change map per person as CSV or JSON.

`python manage.py export_changemap [--account NAME] --format csv|json [--output FILE]`

CSV cells that a spreadsheet would run as a formula are neutralised (core.spreadsheets); a file
written with --output is UTF-8 with a byte-order mark so that Excel reads accents correctly.
"""

import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from changemaps.selectors import changemap_export_rows, changemap_latest_wave
from core.spreadsheets import csv_bytes, neutralise_frame

COLUMNS = ["account", "email", "name", "category", "reason", "last", "delta", "silent_streak",
           "key_person"]  # fmt: skip


class Command(BaseCommand):
    help = "Write every person's latest change-map category and reason as CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this account (its name, any case).")
        parser.add_argument("--format", choices=["csv", "json"], required=True)
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")

    def handle(self, *args, **options):
        account, output = options["account"], options["output"]
        chosen = None
        if account:
            chosen = Account.objects.filter(name__iexact=account.strip()).first()
            if chosen is None:
                raise CommandError(f"No account is called “{account}”.")
        wave = changemap_latest_wave()
        if wave is None:
            raise CommandError("No change maps yet: run `manage.py compute_changemaps` first.")
        rows = changemap_export_rows(wave=wave, account=chosen)
        frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
        frame = frame.astype({"last": "Int64", "delta": "Int64", "silent_streak": "int64"})
        if options["format"] == "json":
            text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
            content = text.encode("utf-8")
        elif output is not None:
            content = csv_bytes(frame)
        else:
            text = neutralise_frame(frame).to_csv(index=False, lineterminator="\n")
            content = text.encode("utf-8")
        if output is not None:
            output.write_bytes(content)
            self.stderr.write(f"{len(rows)} people from the {wave} written to {output}.")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
