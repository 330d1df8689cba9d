"""The relationship map of an account: an org chart by reports-to, with influence as a second layer.

`relationship_map_rows` reads one account's people and links in a constant number of queries;
`map_elements` and `map_outline` are pure: they turn those rows into Cytoscape.js elements and
into the nested list that is the map's text alternative, and never touch the ORM.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.db.models import OuterRef, Subquery

from accounts.models import Account
from changemaps.models import ContactSnapshot
from contacts.models import BuyingRole, Contact, InfluenceLink

# Short forms for the chips on a map node, where the full label would crowd the card.
ROLE_ABBREVIATIONS = {
    BuyingRole.Code.DECISION_MAKER: "DM",
    BuyingRole.Code.BUDGET_HOLDER: "BH",
    BuyingRole.Code.CHAMPION: "CH",
    BuyingRole.Code.INFLUENCER: "INF",
    BuyingRole.Code.GATEKEEPER: "GK",
    BuyingRole.Code.DETRACTOR: "DET",
    BuyingRole.Code.USER: "USR",
    BuyingRole.Code.TECHNICAL_EVALUATOR: "TE",
}
REPORTS_TO = "reports_to"


class MapRole(NamedTuple):
    code: str
    label: str


@dataclass(frozen=True)
class MapPerson:
    """One contact as the map needs them: plain values, already read from the database."""

    id: int
    name: str
    job_title: str = ""
    department: str = ""
    roles: tuple[MapRole, ...] = ()  # in the roles' display order
    owner: str = ""
    influence: int | None = None
    status: str = Contact.Status.ACTIVE
    status_label: str = "Active"
    left_on: date | None = None
    reports_to_id: int | None = None
    url: str = ""
    # The change-map category key of the latest snapshot (CHANGE_MAP_RULES.md); None: not on a map.
    category: str | None = None

    @property
    def has_left(self) -> bool:
        return self.status == Contact.Status.LEFT

    @property
    def is_key(self) -> bool:
        """Decision maker, budget holder or champion, or influence 4–5 (as Contact.is_key_person)."""
        codes = {role.code for role in self.roles}
        return bool(codes & BuyingRole.KEY_CODES) or (self.influence or 0) >= 4


@dataclass(frozen=True)
class MapLink:
    id: int
    source_id: int
    target_id: int
    kind: str
    strength: int


@dataclass(frozen=True)
class OutlineRow:
    """One person in the text alternative, in tree order.

    Templates cannot recurse, so the nesting travels as numbers: a row with reports opens a
    nested list; a row without closes its item and then `closes` enclosing lists.
    """

    person: MapPerson
    depth: int
    has_reports: bool
    closes: range


def relationship_map_rows(*, account: Account) -> tuple[list[MapPerson], list[MapLink]]:
    """Everyone in `account` (already visibility-checked) and the links between them: 3 queries.

    Each person's change-map category is their latest snapshot's, read in the people query.
    """
    latest_category = (
        ContactSnapshot.objects.filter(contact=OuterRef("pk"))
        .order_by("-wave__opens_on", "-wave_id")
        .values("category")[:1]
    )
    contacts = (
        account.contacts.select_related("owner")
        .prefetch_related("buying_roles")
        .annotate(changemap_category=Subquery(latest_category))
    )
    people = [
        MapPerson(
            id=contact.pk,
            name=contact.name,
            job_title=contact.job_title,
            department=contact.department,
            roles=tuple(MapRole(role.code, role.label) for role in contact.buying_roles.all()),
            owner=str(contact.owner) if contact.owner else "",
            influence=contact.influence,
            status=contact.status,
            status_label=contact.get_status_display(),
            left_on=contact.left_on,
            reports_to_id=contact.reports_to_id,
            url=contact.get_absolute_url(),
            category=contact.changemap_category or None,
        )
        for contact in contacts.order_by("name", "pk")
    ]
    links = [
        MapLink(id=pk, source_id=source, target_id=target, kind=kind, strength=strength)
        for pk, source, target, kind, strength in InfluenceLink.objects.filter(
            source__account=account, target__account=account
        )
        .order_by("pk")
        .values_list("pk", "source_id", "target_id", "kind", "strength")
    ]
    return people, links


def _node_id(person_id: int) -> str:
    return f"p{person_id}"


def map_elements(*, people: Iterable[MapPerson], links: Iterable[MapLink]) -> dict:
    """Cytoscape.js elements: a node per person, a reports-to edge per manager, an edge per link.

    Edges to people outside the set (another account, bad data) are dropped rather than drawn
    dangling. Departed people stay on the map, flagged `left`, so the page can grey or hide them.
    """
    people = list(people)
    by_id = {person.id: person for person in people}
    link_labels = dict(InfluenceLink.Kind.choices)
    nodes = []
    edges = []
    for person in people:
        classes = ["person"]
        if person.is_key:
            classes.append("key")
        if person.has_left:
            classes.append("left")
        nodes.append(
            {
                "data": {
                    "id": _node_id(person.id),
                    "pk": person.id,
                    "name": person.name,
                    "title": person.job_title,
                    "department": person.department,
                    "roles": [
                        {
                            "code": code,
                            "label": label,
                            "abbr": ROLE_ABBREVIATIONS.get(code, code[:3]),
                        }
                        for code, label in person.roles
                    ],
                    "owner": person.owner,
                    "influence": person.influence,
                    "status": person.status,
                    "status_label": person.status_label,
                    "left": person.has_left,
                    "left_on": person.left_on.isoformat() if person.left_on else None,
                    "key": person.is_key,
                    "category": person.category,
                    "url": person.url,
                },
                "classes": " ".join(classes),
            }
        )
        manager = by_id.get(person.reports_to_id)
        if manager is not None:
            edges.append(
                {
                    "data": {
                        "id": f"r{person.id}",
                        "source": _node_id(manager.id),
                        "target": _node_id(person.id),
                        "kind": REPORTS_TO,
                        "label": "reports to",
                        "left": person.has_left or manager.has_left,
                    },
                    "classes": REPORTS_TO,
                }
            )
    for link in links:
        source, target = by_id.get(link.source_id), by_id.get(link.target_id)
        if source is None or target is None or source.id == target.id:
            continue
        edges.append(
            {
                "data": {
                    "id": f"l{link.id}",
                    "source": _node_id(source.id),
                    "target": _node_id(target.id),
                    "kind": link.kind,
                    "label": link_labels.get(link.kind, link.kind).lower(),
                    "strength": link.strength,
                    "left": source.has_left or target.has_left,
                },
                "classes": f"link {link.kind}",
            }
        )
    return {
        "nodes": nodes,
        "edges": edges,
        "counts": {
            "people": len(people),
            "left": sum(person.has_left for person in people),
            "links": sum(edge["data"]["kind"] != REPORTS_TO for edge in edges),
        },
    }


def map_outline(*, people: Iterable[MapPerson]) -> list[OutlineRow]:
    """The org chart as rows of nested lists (top of each tree first), for screen readers."""
    people = list(people)
    by_id = {person.id: person for person in people}
    reports: dict[int | None, list[MapPerson]] = {}
    for person in people:
        manager_id = person.reports_to_id if person.reports_to_id in by_id else None
        reports.setdefault(manager_id, []).append(person)

    ordered: list[tuple[MapPerson, int]] = []
    placed: set[int] = set()

    def walk(person: MapPerson, depth: int) -> None:
        placed.add(person.id)
        ordered.append((person, depth))
        for report in reports.get(person.id, []):
            if report.id not in placed:
                walk(report, depth + 1)

    for person in reports.get(None, []):
        walk(person, 0)
    # A reporting loop (Contact.clean prevents one, an import might not) has no top: start it
    # wherever it is first met rather than lose its people.
    for person in people:
        if person.id not in placed:
            walk(person, 0)

    rows = []
    for index, (person, depth) in enumerate(ordered):
        next_depth = ordered[index + 1][1] if index + 1 < len(ordered) else 0
        has_reports = next_depth > depth
        rows.append(
            OutlineRow(
                person=person,
                depth=depth,
                has_reports=has_reports,
                closes=range(0 if has_reports else depth - next_depth),
            )
        )
    return rows
