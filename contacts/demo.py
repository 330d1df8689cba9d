"""Demo data for contacts: a believable org of 8–40 people in every demo account.

Deterministic (a seeded RNG per account, whatever already exists) and
idempotent (people keyed by account and email; links and relationships by their ends).
"""

import random
import unicodedata
from datetime import timedelta

from django.utils import timezone

from accounts.models import Account, User
from contacts import services
from contacts.models import BuyingRole, Contact, InfluenceLink, InternalRelationship

FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "Daniel",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Isak",
    "Jonas",
    "Kira",
    "Liam",
    "Marta",
    "Nils",
    "Olivia",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Ugo",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Arjun",
    "Bea",
    "Carlos",
    "Dana",
    "Emeka",
    "Freya",
    "Grace",
    "Henrik",
    "Ines",
    "Jakob",
    "Leila",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Ruth",
    "Sven",
    "Tomás",
]
LAST = [
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "García",
    "Hughes",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Quist",
    "Rossi",
    "Schmidt",
    "Thompson",
    "Ueda",
    "Visser",
    "Walsh",
    "Xu",
    "Young",
    "Zimmermann",
    "Ahmed",
    "Brennan",
    "Chen",
    "Delgado",
    "Engel",
    "Fischer",
    "Gallagher",
    "Haddad",
    "Ito",
    "Jensen",
    "Keller",
    "Larsen",
]
DEPARTMENTS = [
    "Operations",
    "Finance",
    "Procurement",
    "IT",
    "Supply Chain",
    "Marketing",
    "Customer Service",
]
CITIES = [
    "London",
    "Manchester",
    "Dublin",
    "Berlin",
    "Munich",
    "Stockholm",
    "Oslo",
    "Amsterdam",
    "Rotterdam",
    "Chicago",
    "Toronto",
    "Madrid",
    "Milan",
    "Lisbon",
]
TOP_TITLES = ["Chief Executive Officer", "Managing Director", "Chief Operating Officer"]
HEAD_TITLES = {
    "Operations": "VP Operations",
    "Finance": "Chief Financial Officer",
    "Procurement": "Head of Procurement",
    "IT": "Chief Information Officer",
    "Supply Chain": "Director of Supply Chain",
    "Marketing": "Chief Marketing Officer",
    "Customer Service": "Head of Customer Service",
}
MANAGER_TITLES = ["{d} Manager", "Senior {d} Manager", "{d} Lead"]
STAFF_TITLES = ["{d} Specialist", "{d} Analyst", "{d} Coordinator", "Senior {d} Analyst"]
SIZE_BY_TIER = {"strategic": (22, 40), "key": (12, 24), "growth": (8, 14)}


def _ascii_letters(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalpha())


def _email(name: str, domain: str) -> str:
    first, last = name.split(" ", 1)
    return f"{_ascii_letters(first)}.{_ascii_letters(last)}@{domain}"


def _domain(account: Account) -> str:
    return "".join(ch for ch in account.name.lower() if ch.isalnum())[:18] + ".example"


def seed(accounts: list[Account]) -> int:
    roles = {role.code: role for role in BuyingRole.objects.all()}
    users = list(User.objects.filter(is_active=True).order_by("email"))
    total = 0
    for account in accounts:
        # One RNG per account, so what exists already never shifts the draws for the rest.
        rng = random.Random(f"rapport-demo:{account.name}")
        total += _seed_account(account, rng, roles, users)
    return total


def _seed_account(account, rng, roles, users) -> int:
    low, high = SIZE_BY_TIER[account.tier]
    size = rng.randint(low, high)
    domain = _domain(account)
    team = [account.owner, *[m.user for m in account.memberships.select_related("user")]]
    names, people = set(), []
    while len(names) < size:
        names.add(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    names = sorted(names)
    rng.shuffle(names)
    departments = rng.sample(DEPARTMENTS, min(len(DEPARTMENTS), max(3, size // 5)))

    # Shape of the org: one top person, a head per department, managers, then staff.
    plan = [("Executive", rng.choice(TOP_TITLES), "c_level", None, ["decision_maker"], 5)]
    for dept in departments:
        head_roles = {
            "Finance": ["budget_holder"],
            "Procurement": ["gatekeeper"],
            "IT": ["technical_evaluator"],
        }
        plan.append(
            (
                dept,
                HEAD_TITLES[dept],
                "vp",
                0,
                head_roles.get(dept, ["influencer"]),
                rng.randint(3, 5),
            )
        )
    while len(plan) < size:
        dept_index = rng.randrange(len(departments))
        dept = departments[dept_index]
        manager_rows = [i for i, p in enumerate(plan) if p[0] == dept and p[2] == "manager"]
        if not manager_rows or rng.random() < 0.3:
            title = rng.choice(MANAGER_TITLES).format(d=dept)
            plan.append((dept, title, "manager", 1 + dept_index, ["user"], rng.randint(2, 4)))
        else:
            title = rng.choice(STAFF_TITLES).format(d=dept)
            plan.append(
                (dept, title, "specialist", rng.choice(manager_rows), ["user"], rng.randint(1, 3))
            )

    created_any = False
    for i, (dept, title, seniority, boss_index, role_codes, influence) in enumerate(plan):
        name = names[i]
        owner = rng.choice(team) if rng.random() < 0.8 or seniority != "specialist" else None
        if i == 0 or rng.random() < 0.1:
            role_codes = [*role_codes, "champion"] if rng.random() < 0.5 and i != 0 else role_codes
        if rng.random() < 0.06:
            role_codes = [*role_codes, "detractor"]
        contact, created = Contact.objects.get_or_create(
            account=account,
            email=_email(name, domain),
            defaults={
                "name": name,
                "job_title": title,
                "department": dept,
                "seniority": seniority,
                "influence": influence,
                "owner": owner,
                "location": rng.choice(CITIES),
                "preferred_channel": rng.choice(Contact.Channel.values),
                "contact_frequency": rng.choice(Contact.Frequency.values),
                "phone": f"+44 20 7946 {rng.randint(1000, 9999)}",
                "pulse_consent_at": timezone.now(),
                # Bosses come earlier in the plan, so they exist already.
                "reports_to": people[boss_index] if boss_index is not None else None,
            },
        )
        if created:
            created_any = True
            contact.buying_roles.set([roles[c] for c in dict.fromkeys(role_codes)])
            # The demo relationship started years ago, before the first pulse.
            contact.history.update(history_date=timezone.now() - timedelta(days=1200))
        people.append(contact)

    if created_any:
        _seed_story(account, people, random.Random(f"rapport-demo-story:{account.name}"))

    # Drawn from their own RNG, so whether the story ran above never shifts these draws.
    rng = random.Random(f"rapport-demo-links:{account.name}")

    # Relationships beyond the owner, influence links across the org (idempotent by their ends).
    for contact in rng.sample(people, max(2, len(people) // 3)):
        colleague = rng.choice(users)
        InternalRelationship.objects.get_or_create(
            contact=contact, user=colleague, defaults={"strength": rng.randint(2, 5)}
        )
    for _ in range(max(2, len(people) // 4)):
        source, target = rng.sample(people, 2)
        kind = rng.choices(InfluenceLink.Kind.values, weights=[6, 3, 2])[0]
        InfluenceLink.objects.get_or_create(
            source=source, target=target, kind=kind, defaults={"strength": rng.randint(2, 5)}
        )
    return len(people)


def _seed_story(account, people, rng) -> None:
    """A few changes over time, so relationship stories and coverage have something to show."""
    actor = account.owner
    for contact in rng.sample(people[1:], min(3, len(people) - 1)):
        services.contact_update(
            contact=contact,
            fields={
                "job_title": f"Senior {contact.job_title}"
                if "Senior" not in contact.job_title
                else contact.job_title.replace("Senior ", "Head of ")
            },
            actor=actor,
            reason="Promoted",
        )
        contact.history.filter(history_change_reason="Promoted").update(
            history_date=timezone.now() - timedelta(days=rng.randint(20, 400))
        )
    # A departure of a key person in the last 90 days, in about a third of the accounts.
    if rng.random() < 0.35 and len(people) > 3:
        leaver = people[1]
        services.contact_mark_left(
            contact=leaver,
            actor=actor,
            left_on=timezone.localdate() - timedelta(days=rng.randint(5, 80)),
            note="Left for a competitor",
        )
    # A coverage gap: a senior person with nobody on our side.
    if rng.random() < 0.4:
        gap = rng.choice(people[1:])
        services.contact_update(
            contact=gap, fields={"owner": None}, actor=actor, reason="Owner moved on"
        )
