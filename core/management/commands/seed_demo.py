import random

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from accounts.demo import DEMO_USERS
from actions import demo as actions_demo
from changemaps.services import changemaps_compute
from contacts import demo as contacts_demo
from pulses import demo as pulses_demo


class Command(BaseCommand):
    help = "Build the deterministic demo supplier (idempotent: running it twice changes nothing)."

    def handle(self, *args, **options):
        # One RNG, drawn in a fixed order, so every run makes the same choices.
        rng = random.Random(2026)
        with transaction.atomic():
            result = accounts_demo.seed(rng)
            people = contacts_demo.seed(result["accounts"])
            pulses = pulses_demo.seed(result["accounts"])
            loop = actions_demo.seed()
        # Every wave's maps, so the dashboards show movement from the first visit.
        changemaps_compute(waves="all")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(result['users'])} users, {len(result['accounts'])} accounts, "
                f"{people} people, {pulses['waves']} pulse waves with {pulses['responses']} responses, "
                f"{loop['acknowledgements']} acknowledgements."
            )
        )
        if options["verbosity"] >= 1:
            self.stdout.write("Demo logins (password: rapport-demo):")
            for email, name, role, _ in DEMO_USERS:
                self.stdout.write(f"  {email:<22} {name:<16} {role.label}")
