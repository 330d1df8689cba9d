"""Demo data for accounts: a believable supplier with people, accounts and logs.

Deterministic (one seeded RNG, fixed lists) and idempotent (everything keyed by a natural key:
users by email, accounts by name, log entries by account and title), so running it twice
changes nothing.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import (
    Account,
    AccountLogEntry,
    AccountMembership,
    Role,
    Segment,
    Territory,
    User,
)

DEMO_USERS = [
    # email, name, role, title
    ("admin@example.com", "Alex Morgan", Role.ADMINISTRATOR, "Head of Customer Operations"),
    ("exec@example.com", "Evelyn Hart", Role.EXECUTIVE, "Chief Customer Officer"),
    ("maya@example.com", "Maya Patel", Role.ACCOUNT_MANAGER, "Key Account Director"),
    ("tom@example.com", "Tom Becker", Role.ACCOUNT_MANAGER, "Key Account Manager"),
    ("sofia@example.com", "Sofia Rossi", Role.ACCOUNT_MANAGER, "Key Account Manager"),
    ("james@example.com", "James Okafor", Role.ACCOUNT_MANAGER, "Senior Account Manager"),
    ("lena@example.com", "Lena Fischer", Role.ACCOUNT_MANAGER, "Account Manager"),
    ("noah@example.com", "Noah Williams", Role.ACCOUNT_MANAGER, "Customer Success Lead"),
]

SEGMENTS = [
    "Manufacturing",
    "Retail & Consumer",
    "Energy & Utilities",
    "Financial Services",
    "Healthcare",
]
TERRITORIES = ["UK & Ireland", "DACH", "Nordics", "Benelux", "North America", "Southern Europe"]

# name, tier, segment, territory, industry, owner email, status, parent name
DEMO_ACCOUNTS = [
    (
        "Helios Energy Group",
        "strategic",
        "Energy & Utilities",
        "UK & Ireland",
        "Integrated energy",
        "maya@example.com",
        "active",
        None,
    ),
    (
        "Helios Energy Deutschland",
        "strategic",
        "Energy & Utilities",
        "DACH",
        "Integrated energy",
        "lena@example.com",
        "active",
        "Helios Energy Group",
    ),
    (
        "Helios Energy Nordic",
        "key",
        "Energy & Utilities",
        "Nordics",
        "Wind and hydro power",
        "maya@example.com",
        "active",
        "Helios Energy Group",
    ),
    (
        "Northwind Logistics",
        "strategic",
        "Manufacturing",
        "Benelux",
        "Freight and warehousing",
        "maya@example.com",
        "active",
        None,
    ),
    (
        "Bluepeak Retail",
        "strategic",
        "Retail & Consumer",
        "UK & Ireland",
        "Grocery retail",
        "maya@example.com",
        "active",
        None,
    ),
    (
        "Meridian Bank",
        "strategic",
        "Financial Services",
        "UK & Ireland",
        "Retail banking",
        "tom@example.com",
        "active",
        None,
    ),
    (
        "Arcadia Health Trust",
        "strategic",
        "Healthcare",
        "UK & Ireland",
        "Hospital network",
        "james@example.com",
        "active",
        None,
    ),
    (
        "Vantage Motors",
        "strategic",
        "Manufacturing",
        "DACH",
        "Automotive",
        "lena@example.com",
        "active",
        None,
    ),
    (
        "Cobalt Pharmaceuticals",
        "strategic",
        "Healthcare",
        "North America",
        "Pharmaceuticals",
        "sofia@example.com",
        "active",
        None,
    ),
    (
        "Orchid Hotels",
        "key",
        "Retail & Consumer",
        "Southern Europe",
        "Hospitality",
        "sofia@example.com",
        "active",
        None,
    ),
    (
        "Fjord Seafood",
        "key",
        "Retail & Consumer",
        "Nordics",
        "Food production",
        "noah@example.com",
        "active",
        None,
    ),
    (
        "Granite Insurance",
        "key",
        "Financial Services",
        "North America",
        "Commercial insurance",
        "tom@example.com",
        "active",
        None,
    ),
    (
        "Lumen Telecom",
        "key",
        "Energy & Utilities",
        "Southern Europe",
        "Telecommunications",
        "sofia@example.com",
        "active",
        None,
    ),
    (
        "Kestrel Aerospace",
        "key",
        "Manufacturing",
        "UK & Ireland",
        "Aerospace components",
        "james@example.com",
        "active",
        None,
    ),
    (
        "Polaris Water",
        "key",
        "Energy & Utilities",
        "Nordics",
        "Water utility",
        "noah@example.com",
        "active",
        None,
    ),
    (
        "Sterling Pensions",
        "key",
        "Financial Services",
        "UK & Ireland",
        "Pensions and savings",
        "tom@example.com",
        "won",
        None,
    ),
    (
        "Tidewater Foods",
        "key",
        "Retail & Consumer",
        "North America",
        "Packaged foods",
        "james@example.com",
        "active",
        None,
    ),
    (
        "Ironbridge Steel",
        "growth",
        "Manufacturing",
        "UK & Ireland",
        "Steel fabrication",
        "maya@example.com",
        "active",
        None,
    ),
    (
        "Quartz Diagnostics",
        "growth",
        "Healthcare",
        "DACH",
        "Medical diagnostics",
        "lena@example.com",
        "prospect",
        None,
    ),
    (
        "Saffron Cosmetics",
        "growth",
        "Retail & Consumer",
        "Southern Europe",
        "Beauty and personal care",
        "sofia@example.com",
        "active",
        None,
    ),
    (
        "Evergreen Credit Union",
        "growth",
        "Financial Services",
        "North America",
        "Cooperative banking",
        "tom@example.com",
        "active",
        None,
    ),
    (
        "Nimbus Pharmacies",
        "growth",
        "Healthcare",
        "Benelux",
        "Pharmacy chain",
        "noah@example.com",
        "active",
        None,
    ),
    (
        "Atlas Mining",
        "growth",
        "Energy & Utilities",
        "North America",
        "Mining",
        "james@example.com",
        "lost",
        None,
    ),
    (
        "Harbour Freight Lines",
        "growth",
        "Manufacturing",
        "Nordics",
        "Shipping",
        "noah@example.com",
        "prospect",
        None,
    ),
    (
        "Solstice Renewables",
        "growth",
        "Energy & Utilities",
        "Southern Europe",
        "Solar developer",
        "lena@example.com",
        "active",
        None,
    ),
]

PRESENCE = [
    "UK, Ireland",
    "Germany, Austria, Switzerland",
    "Nordics and Baltics",
    "EU-wide, 14 countries",
    "US and Canada",
    "Global: 30 countries",
    "Benelux and France",
    "Spain, Portugal, Italy",
]
MARKETS = [
    "Entering Poland and Czechia",
    "Expanding into the US West Coast",
    "Launching online grocery",
    "Moving into hydrogen",
    "Building a direct-to-consumer channel",
    "Opening in Singapore",
    "",
]
TEAM_ROLES = [
    "Delivery lead",
    "Solutions architect",
    "Service manager",
    "Commercial lead",
    "Customer success",
]

LOG_TEMPLATES = [
    (
        "success_story",
        "Go-live on time for the {season} peak",
        "The rollout landed two weeks before their busiest period; their operations director thanked the team by name.",
    ),
    (
        "success_story",
        "Renewal signed for three more years",
        "Renewal signed with a 12% uplift. The champion credited our quarterly reviews.",
    ),
    (
        "challenge",
        "Invoice disputes slowing payments",
        "Finance flagged three disputed invoices; root cause is a PO mismatch on their side and a slow fix on ours.",
    ),
    (
        "challenge",
        "Service outage during month-end close",
        "Four-hour outage hit their month-end; incident review shared, credits agreed.",
    ),
    (
        "meeting",
        "Quarterly business review",
        "Reviewed KPIs, roadmap and their expansion plans. Agreed to pilot the new reporting module.",
    ),
    (
        "meeting",
        "Executive sponsor dinner",
        "Our CCO met their COO. Main concern: responsiveness of second-line support.",
    ),
    (
        "note",
        "New procurement lead appointed",
        "Procurement moved to a new lead; expect a tender process for the next renewal.",
    ),
    (
        "success_story",
        "Case study published together",
        "Joint case study published; their marketing team asked to present it at our conference.",
    ),
    (
        "challenge",
        "Champion moving to a new role",
        "Our main champion is moving to a group role; we need a new sponsor in operations.",
    ),
    (
        "meeting",
        "Site visit at their main warehouse",
        "Walked the floor with their operations team; spotted two quick wins in the handover process.",
    ),
]


def seed(rng: random.Random) -> dict:
    users = _seed_users()
    segments = {name: Segment.objects.get_or_create(name=name)[0] for name in SEGMENTS}
    territories = {name: Territory.objects.get_or_create(name=name)[0] for name in TERRITORIES}
    accounts = []
    managers = [u for u in users.values() if u.role == Role.ACCOUNT_MANAGER]
    for name, tier, segment, territory, industry, owner, status, parent in DEMO_ACCOUNTS:
        account, _ = Account.objects.get_or_create(
            name=name,
            defaults={
                "tier": tier,
                "segment": segments[segment],
                "territory": territories[territory],
                "industry": industry,
                "owner": users[owner],
                "status": status,
                "parent": Account.objects.filter(name=parent).first() if parent else None,
                "seasonal_peak_months": sorted(rng.sample(range(1, 13), rng.randint(0, 3))),
                "international_presence": rng.choice(PRESENCE),
                "markets_entering": rng.choice(MARKETS),
            },
        )
        accounts.append(account)
        helpers = rng.sample([m for m in managers if m.pk != account.owner_id], rng.randint(1, 2))
        for helper in helpers:
            AccountMembership.objects.get_or_create(
                account=account, user=helper, defaults={"responsibility": rng.choice(TEAM_ROLES)}
            )
        _seed_log(account, users, rng)
    return {"users": users, "accounts": accounts}


def _seed_users() -> dict[str, User]:
    users = {}
    for email, name, role, title in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, settings.RAPPORT_DEMO_PASSWORD, full_name=name, role=role, job_title=title
            )
        users[email] = user
    return users


def _seed_log(account: Account, users: dict[str, User], rng: random.Random) -> None:
    today = timezone.localdate()
    authors = [account.owner, *[m.user for m in account.memberships.select_related("user")]]
    for kind, title, body in rng.sample(LOG_TEMPLATES, rng.randint(3, 6)):
        season = (account.seasonal_peak_month_names or ["winter"])[0]
        AccountLogEntry.objects.get_or_create(
            account=account,
            title=title.format(season=season),
            defaults={
                "kind": kind,
                "body": body,
                "author": rng.choice(authors),
                "occurred_on": today - timedelta(days=rng.randint(3, 540)),
            },
        )
