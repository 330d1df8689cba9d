"""Reads for contacts. Every entry point starts from what the user may see."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account, User
from contacts.models import BuyingRole, Contact, Handover, InfluenceLink, InternalRelationship

KEY_ROLE_CODES = [BuyingRole.Code.DECISION_MAKER, BuyingRole.Code.BUDGET_HOLDER]
RECENT_DEPARTURE_DAYS = 90
EDIT_MOMENT = timedelta(seconds=5)


def contact_get_for_user(*, user: User, pk: int) -> Contact:
    """The contact if its account is visible to `user`; 404 otherwise."""
    return get_object_or_404(
        Contact.objects.visible_to(user).select_related("account", "owner", "reports_to"), pk=pk
    )


def contacts_for_account(*, account: Account, filters: dict | None = None) -> QuerySet[Contact]:
    """The people of one (already visibility-checked) account, with what the table shows."""
    filters = filters or {}
    contacts = (
        account.contacts.select_related("owner", "reports_to")
        .prefetch_related("buying_roles")
        .order_by("name")
    )
    if filters.get("role"):
        contacts = contacts.filter(buying_roles__code=filters["role"])
    if filters.get("department"):
        contacts = contacts.filter(department__iexact=filters["department"])
    if filters.get("owner"):
        contacts = contacts.filter(owner_id=filters["owner"])
    if filters.get("status"):
        contacts = contacts.filter(status=filters["status"])
    if filters.get("q"):
        query = filters["q"].strip()
        contacts = contacts.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(job_title__icontains=query)
        )
    return contacts


def departments_for_account(*, account: Account) -> list[str]:
    return list(
        account.contacts.exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )


def contact_detail(*, contact: Contact) -> dict:
    relationships = contact.relationships.select_related("user")
    links = InfluenceLink.objects.filter(Q(source=contact) | Q(target=contact)).select_related(
        "source", "target"
    )
    return {
        "roles": list(contact.buying_roles.all()),
        "relationships": list(relationships),
        "links": list(links),
        "direct_reports": list(contact.direct_reports.order_by("name")),
    }


@dataclass(frozen=True)
class StoryEvent:
    """One moment in a person's relationship story. Later apps add pulses, replies, actions."""

    at: datetime
    kind: str  # "change", "log", …: also the CSS class of its marker
    title: str
    body: str = ""
    actor: str = ""
    url: str = ""
    score: int | None = None  # a relationship score given at this moment
    quotes: tuple[tuple[str, str], ...] = ()  # (label, their own words)


def _history_events(contact: Contact) -> list[StoryEvent]:
    """Changes to the person, one event per moment of editing.

    A single edit can write several history rows (the contact, then its roles: Django's m2m
    `set()` removes and adds in two steps), so rows by the same person within a few seconds
    are read as one moment, compared against the state before it.
    """
    records = list(
        contact.history.select_related("history_user").order_by("history_date", "history_id")
    )
    bursts: list[list] = []
    for record in records:
        burst = bursts[-1] if bursts else None
        if (
            burst
            and record.history_user_id == burst[0].history_user_id
            and record.history_date - burst[0].history_date < EDIT_MOMENT
        ):
            burst.append(record)
        else:
            bursts.append([record])

    events: list[StoryEvent] = []
    before = None
    for burst in bursts:
        first, last = burst[0], burst[-1]
        actor = str(first.history_user) if first.history_user else ""
        reason = next((r.history_change_reason for r in burst if r.history_change_reason), "")
        if before is None:
            roles = _role_names(last.buying_roles.values_list("buyingrole_id", flat=True))
            body = f"buying roles: {roles}" if roles != "none" else ""
            events.append(
                StoryEvent(first.history_date, "change", reason or "Added to Rapport", body, actor)
            )
        else:
            changes = [_describe_change(change) for change in last.diff_against(before).changes]
            if changes or reason:
                title = reason or "Details changed"
                events.append(
                    StoryEvent(first.history_date, "change", title, "; ".join(changes), actor)
                )
        before = last
    return events


def _role_names(codes) -> str:
    names = dict(BuyingRole.Code.choices)
    return ", ".join(sorted(names.get(code, code) for code in codes)) or "none"


def _describe_change(change) -> str:
    if change.field == "buying_roles":
        new = _role_names(row["buyingrole"] for row in change.new or [])
        old = _role_names(row["buyingrole"] for row in change.old or [])
        return f"buying roles: {new} (was {old})"
    label = Contact._meta.get_field(change.field).verbose_name
    return (
        f"{label}: {_display(change.field, change.new)} (was {_display(change.field, change.old)})"
    )


def _display(field: str, value) -> str:
    if value in (None, ""):
        return "—"
    model_field = Contact._meta.get_field(field)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if field == "owner":
        return str(User.objects.filter(pk=value).first() or "—")
    if field == "reports_to":
        return str(Contact.objects.filter(pk=value).first() or "—")
    return str(value)


# Other apps add their moments to the story (pulses, acknowledgements, actions) by registering
# a function `contact -> list[StoryEvent]` here from their AppConfig.ready().
STORY_SOURCES: list = []


def register_story_source(source):
    if source not in STORY_SOURCES:
        STORY_SOURCES.append(source)
    return source


def contact_story(*, contact: Contact) -> list[StoryEvent]:
    """The person's timeline, newest first: changes, log entries that mention them, and every
    registered source's moments (pulses, replies, actions)."""
    events = _history_events(contact)
    for source in STORY_SOURCES:
        events.extend(source(contact))
    for entry in contact.log_mentions.select_related("author"):
        at = timezone.make_aware(datetime.combine(entry.occurred_on, datetime.min.time()))
        events.append(
            StoryEvent(
                at,
                f"log log-{entry.kind}",
                f"{entry.get_kind_display()}: {entry.title}",
                body=entry.body,
                actor=str(entry.author or ""),
                url=f"{entry.account.get_absolute_url()}#log",
            )
        )
    return sorted(events, key=lambda e: e.at, reverse=True)


def coverage_for_accounts(*, accounts: QuerySet[Account]) -> dict:
    """Where our coverage is thin, across `accounts` (already scoped to the user)."""
    active = Contact.objects.filter(account__in=accounts).exclude(status=Contact.Status.LEFT)
    has_relationship = InternalRelationship.objects.filter(contact=OuterRef("pk"))
    since = timezone.localdate() - timedelta(days=RECENT_DEPARTURE_DAYS)
    key_people = Q(buying_roles__code__in=BuyingRole.KEY_CODES) | Q(influence__gte=4)
    threads = (
        accounts.annotate(
            threads=Count(
                "contacts",
                filter=Q(contacts__status__in=[Contact.Status.ACTIVE, Contact.Status.CHANGED_ROLE])
                & (Q(contacts__owner__isnull=False) | Q(contacts__relationships__isnull=False)),
                distinct=True,
            )
        )
        .filter(threads__lte=1)
        .select_related("owner")
        .order_by("name")
    )
    related = "account", "owner"
    return {
        "unowned_deciders": list(
            active.filter(buying_roles__code__in=KEY_ROLE_CODES, owner__isnull=True)
            .select_related(*related)
            .distinct()
            .order_by("account__name", "name")
        ),
        "nobody_knows": list(
            active.filter(owner__isnull=True)
            .exclude(Exists(has_relationship))
            .select_related(*related)
            .order_by("account__name", "name")
        ),
        "single_threaded": list(threads),
        "recent_key_departures": list(
            Contact.objects.filter(
                account__in=accounts, status=Contact.Status.LEFT, left_on__gte=since
            )
            .filter(key_people)
            .select_related(*related)
            .distinct()
            .order_by("-left_on")
        ),
    }


def recent_handovers(limit: int = 20) -> list[Handover]:
    return list(Handover.objects.select_related("from_user", "to_user", "performed_by")[:limit])


def contact_data(*, contact_id: int) -> dict | None:
    """A contact as the API shows it (the `data` of `contact.left`), or None."""
    from contacts.serializers import ContactSerializer  # serializers import the models

    contact = (
        Contact.objects.select_related("owner")
        .prefetch_related("buying_roles", "relationships__user", "links_out", "links_in")
        .filter(pk=contact_id)
        .first()
    )
    return dict(ContactSerializer(contact).data) if contact else None
