"""Compute the change maps now: `python manage.py compute_changemaps [--all-waves]`."""

from django.core.management.base import BaseCommand

from changemaps.services import changemaps_compute


class Command(BaseCommand):
    help = "Compute the change-map snapshots of the latest wave (or of every wave)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all-waves",
            action="store_true",
            help="Recompute the history too: every wave as it stood then.",
        )

    def handle(self, *args, all_waves=False, **options):
        result = changemaps_compute(waves="all" if all_waves else None)
        if not result.wave_ids:
            self.stdout.write("No waves with invitations yet: nothing to compute.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Computed {len(result.wave_ids)} wave(s): {result.contacts} people, "
                f"{result.groups} groups in {result.seconds:.1f} s."
            )
        )
