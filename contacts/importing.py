"""Import people from a spreadsheet (CSV or XLSX), and export them in the same shape.

Three steps, each usable on its own:

1. `parse` reads the file into a DataFrame of stripped strings with canonical column names,
   indexed by spreadsheet row number (the header is row 1, the first person row 2).
2. `validate` checks every row against the file, the database and what the importing user may
   do, and returns an `ImportPlan`: every error, and per row what would be created or changed.
3. `apply` writes a valid plan in one transaction.

`import_contacts` runs the three; the `import_contacts` command and the upload page call it.
docs/contacts-import.md is the user-facing description of the format and the rules:

- All or nothing: one error anywhere and nothing is written; every error is reported.
- A person is matched on account + email, case-insensitively. Importing the same file twice
  changes nothing and records no history.
- A column present with an empty cell clears that field; a column absent from the file leaves
  the field alone. Name and email cannot be cleared; an empty status keeps the current status
  (Active for someone new).

Why the writes are bulk operations rather than `contacts.services.contact_create` and
`contact_update` per row: those cost about 5.5 ms and 9 queries a person (full_clean's
constraint queries, two history records with their role snapshots), so 10,000 rows took close to
a minute. `validate` performs the same checks for the whole file at once (the import writes only
the fields listed above), and `apply` keeps the services' contract: history records with the
importing user and a reason, role snapshots in the history, `pulse_consent_at` on creation and
`left_on` following the status as `Contact.clean` does. If the services grow side effects (an
event when a key person leaves, say), call them from `apply` too.
"""

import re
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, User
from changemaps.services import changemaps_mark_dirty
from contacts.models import BuyingRole, Contact
from core.imports import (
    Action,
    ImportFileError,
    PlanSummary,
    RowError,
    RowErrors,
    normal_text,
    read_rows,
)
from core.spreadsheets import frame_from_records

# The columns of an import and of an export, in export order, and their names in messages.
LABELS = {
    "account": "Account",
    "name": "Name",
    "email": "Email",
    "title": "Title",
    "department": "Department",
    "roles": "Roles",
    "influence": "Influence",
    "reports_to_email": "Reports to",
    "owner_email": "Owner",
    "status": "Status",
    "phone": "Phone",
    "location": "Location",
}

COLUMNS = tuple(LABELS)

# Free-text columns and the Contact field each one fills.
TEXT_FIELDS = {
    "name": "name",
    "title": "job_title",
    "department": "department",
    "phone": "phone",
    "location": "location",
}

# Header names people use for each column, beyond the column's own name. Matching ignores case,
# spaces and punctuation, so "E-mail", "e_mail" and "EMAIL" are all "email".
SYNONYMS = {
    "account": (
        "account name",
        "company",
        "company name",
        "organisation",
        "organization",
        "client",
        "customer",
    ),
    "name": ("full name", "contact", "contact name", "person"),
    "email": ("e-mail", "email address", "e-mail address", "mail", "work email"),
    "title": ("job title", "position", "job"),
    "department": ("dept", "division", "business unit"),
    "roles": ("role", "role(s)", "buying role", "buying roles", "buying role(s)"),
    "influence": ("influence (1-5)", "influence score", "influence level"),
    "reports_to_email": (
        "reports to",
        "reports to email",
        "manager email",
        "line manager email",
        "line manager",
    ),
    "owner_email": ("owner", "relationship owner", "relationship owner email", "contact owner"),
    "status": ("contact status",),
    "phone": ("phone number", "telephone", "tel", "mobile", "work phone"),
    "location": ("city", "office", "based in"),
}

COLUMN_OF_FIELD = {field: column for column, field in TEXT_FIELDS.items()} | {
    "influence": "influence"
}

ROLE_SEPARATORS = re.compile(r"[;|]")
BATCH_SIZE = 500
# simple_history keeps the change reason in a CharField(max_length=100).
REASON_MAX_LENGTH = 100

Key = tuple[int, str]  # (account pk, lower-case email): how a person is matched


HEADER_ALIASES = {
    normal_text(alias): column
    for column, aliases in SYNONYMS.items()
    for alias in (column, *aliases)
}
STATUS_ALIASES = {
    normal_text(text): code for code, label in Contact.Status.choices for text in (code, label)
} | {normal_text("left"): Contact.Status.LEFT}


@dataclass(frozen=True)
class FieldChange:
    """One column of an existing person that the import changes, as text for people to read."""

    column: str
    old: str
    new: str


@dataclass
class RowPlan:
    """What the import does with one row."""

    row: int
    action: Action
    account: Account
    email: str
    name: str
    contact: Contact | None = None  # the existing person, for updates and unchanged rows
    values: dict[str, Any] = field(default_factory=dict)  # Contact attributes to write
    roles: frozenset[str] | None = None  # buying role codes to set; None leaves them alone
    current_roles: frozenset[str] = frozenset()  # an existing person's roles before the import
    sets_manager: bool = False
    manager: Key | None = None  # whom they report to, when `sets_manager`
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.account.pk, self.email)


@dataclass
class ImportPlan(PlanSummary):
    """The outcome of `validate`: the errors, or what every row would do."""

    filename: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # Everyone already in the accounts involved, to resolve reports-to links when writing.
    existing: dict[Key, Contact] = field(default_factory=dict)
    written: bool = False

    @property
    def changed_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.action is not Action.UNCHANGED]

    @property
    def has_changes(self) -> bool:
        return any(row.action is not Action.UNCHANGED for row in self.rows)


# --- Parse ----------------------------------------------------------------------------------------


def canonical_column(header: str) -> str | None:
    """The import column a header means ("E-mail address" → "email"), or None."""
    return HEADER_ALIASES.get(normal_text(header))


def parse(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV or XLSX file into (people, ignored header names).

    The frame has one column per recognised header, named as in `COLUMNS`, holding stripped
    strings ("" for an empty cell), indexed by spreadsheet row number; completely empty rows are
    dropped. The type is recognised from the content, not the file name. Raises ImportFileError
    when the file cannot be read or two headers mean the same column.
    """
    return read_rows(data, aliases=HEADER_ALIASES, labels=LABELS)


# --- Validate -------------------------------------------------------------------------------------


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"“{value}”" for value in values)


def importable_accounts(*, user: User | None, names: Iterable[str]) -> dict[str, Account]:
    """Of the accounts called `names` (any case), those `user` may import into, by case-folded
    name. None is the operator's shell, which may import anywhere."""
    wanted = {name.casefold() for name in names}
    accounts = Account.objects.all() if user is None else Account.objects.visible_to(user)
    # Matched in Python: SQLite's LOWER() only folds ASCII, and visible accounts are few.
    found = {
        account.name.casefold(): account
        for account in accounts
        if account.name.casefold() in wanted
    }
    if user is None:
        return found
    return {name: account for name, account in found.items() if account.can_contribute(user)}


def account_for_import(*, name: str, user: User | None) -> Account | None:
    """The account called `name` (any case) if `user` may import into it, else None."""
    return importable_accounts(user=user, names=[name.strip()]).get(name.strip().casefold())


def _unknown_account(name: str) -> str:
    # The same words whether the account does not exist or is not theirs: never confirm it.
    return f"Unknown account “{name}”, or you may not add people to it."


def _resolve_accounts(
    frame: pd.DataFrame, *, user: User | None, account: Account | None, errors: RowErrors
) -> list[Account | None]:
    """The account of every row (None where it is missing or not allowed)."""
    if account is not None:
        if "account" in frame:
            for row, name in frame["account"].items():
                if name and name.casefold() != account.name.casefold():
                    errors.add(
                        row,
                        "account",
                        f"This import is into “{account.name}” but the row names “{name}”. "
                        "Leave the cell empty or use that account's name.",
                    )
        return [account] * len(frame)

    allowed = importable_accounts(user=user, names=frame["account"].unique())
    accounts = []
    for row, name in frame["account"].items():
        accounts.append(allowed.get(name.casefold()))
        if accounts[-1] is None:
            errors.add(row, "account", _unknown_account(name) if name else "Account is missing.")
    return accounts


def _check_text(frame: pd.DataFrame, errors: RowErrors) -> None:
    for column in frame.columns.intersection(list(TEXT_FIELDS)):
        limit = Contact._meta.get_field(TEXT_FIELDS[column]).max_length
        for row in frame.index[frame[column].str.len() > limit]:
            errors.add(row, column, f"{LABELS[column]} is longer than {limit} characters.")
    for row in frame.index[frame["name"] == ""]:
        errors.add(row, "name", "Name is missing.")


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return len(value) <= Contact._meta.get_field("email").max_length


def _parse_emails(frame: pd.DataFrame, errors: RowErrors) -> list[str]:
    """Lower-case emails; "" where the cell is empty or not an email address."""
    emails = []
    for row, email in frame["email"].str.lower().items():
        if not email:
            errors.add(row, "email", "Email is missing.")
        elif not _is_email(email):
            errors.add(row, "email", f"“{email}” is not a valid email address.")
            email = ""
        emails.append(email)
    return emails


def _parse_cells(frame: pd.DataFrame, column: str, parse_cell, errors: RowErrors) -> list | None:
    """Parse each distinct cell of `column` once. `parse_cell` returns (value, error or None).

    None when the file has no such column, so that the field is left alone.
    """
    if column not in frame:
        return None
    cells = frame[column].tolist()
    parsed = {cell: parse_cell(cell) for cell in set(cells)}
    values = []
    for row, cell in zip(frame.index, cells, strict=True):
        value, error = parsed[cell]
        if error:
            errors.add(row, column, error)
        values.append(value)
    return values


def _roles_parser(lookup: dict[str, str], labels: list[str]):
    def parse_roles(cell: str) -> tuple[frozenset[str], str | None]:
        names = [name.strip() for name in ROLE_SEPARATORS.split(cell) if name.strip()]
        unknown = [name for name in names if normal_text(name) not in lookup]
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            return frozenset(), (
                f"Unknown buying role{plural} {_quoted(unknown)}. Use {', '.join(labels)}; "
                "separate several with ; or |."
            )
        return frozenset(lookup[normal_text(name)] for name in names), None

    return parse_roles


def _parse_influence(cell: str) -> tuple[int | None, str | None]:
    if not cell:
        return None, None
    try:
        number = float(cell)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        return None, f"Influence must be a whole number from 1 to 5 (got “{cell}”)."
    if not 1 <= number <= 5:
        return None, f"Influence must be from 1 to 5 (got {cell})."
    return int(number), None


def _owner_parser(active_users: dict[str, int]):
    def parse_owner(cell: str) -> tuple[int | None, str | None]:
        if not cell:
            return None, None
        pk = active_users.get(cell.lower())
        return pk, None if pk else f"No active user has the email “{cell}”."

    return parse_owner


def _parse_status(cell: str) -> tuple[str, str | None]:
    if not cell:
        return "", None  # keep the current status; Active for someone new
    status = STATUS_ALIASES.get(normal_text(cell))
    if status is None:
        return "", f"Unknown status “{cell}”. Use {', '.join(Contact.Status.labels)}."
    return status, None


def _users_by_email() -> tuple[dict[str, int], dict[int, str]]:
    """(active users' pks by lower-case email, every user's email by pk)."""
    active, emails = {}, {}
    for pk, email, is_active in User.objects.values_list("pk", "email", "is_active"):
        emails[pk] = email
        if is_active:
            active[email.lower()] = pk
    return active, emails


def _existing_people(
    accounts: Iterable[Account],
) -> tuple[dict[Key, Contact], dict[int, frozenset[str]]]:
    """Everyone already in `accounts` by key, and their buying role codes by contact pk."""
    pks = [account.pk for account in accounts]
    people = {
        (contact.account_id, contact.email.lower()): contact
        for contact in Contact.objects.filter(account__in=pks)
    }
    roles: dict[int, set[str]] = {}
    through = Contact.buying_roles.through.objects.filter(contact__account__in=pks)
    for contact_pk, code in through.values_list("contact_id", "buyingrole_id"):
        roles.setdefault(contact_pk, set()).add(code)
    return people, {pk: frozenset(codes) for pk, codes in roles.items()}


def _row_keys(frame, accounts, emails, errors: RowErrors) -> list[Key | None]:
    """Each row's key; None for rows without a valid account and email, or repeating a key."""
    keys: list[Key | None] = []
    first_row: dict[Key, int] = {}
    for row, account, email in zip(frame.index, accounts, emails, strict=True):
        key = (account.pk, email) if account is not None and email else None
        if key in first_row:
            errors.add(
                row, "email", f"“{email}” is already on row {first_row[key]} for this account."
            )
            key = None
        elif key is not None:
            first_row[key] = row
        keys.append(key)
    return keys


def _find_loops(edges: dict[Key, Key | None]) -> list[list[Key]]:
    """Every reporting loop in a graph where each person has at most one manager."""
    done: set[Key] = set()
    loops = []
    for start in edges:
        path: list[Key] = []
        position: dict[Key, int] = {}
        node: Key | None = start
        while node is not None and node not in done:
            if node in position:
                loops.append(path[position[node] :])
                break
            position[node] = len(path)
            path.append(node)
            node = edges.get(node)
        done.update(path)
    return loops


def _resolve_managers(
    frame: pd.DataFrame, keys: list[Key | None], existing: dict[Key, Contact], errors: RowErrors
) -> dict[int, Key | None]:
    """Whom each row reports to (row → key or None), checking the links and the loops that the
    account would have after the import: the people as they are, overlaid with the file."""
    if "reports_to_email" not in frame:
        return {}
    row_of = {key: row for row, key in zip(frame.index, keys, strict=True) if key is not None}
    key_of_pk = {contact.pk: key for key, contact in existing.items()}
    edges = {key: key_of_pk.get(contact.reports_to_id) for key, contact in existing.items()}
    managers: dict[int, Key | None] = {}
    cells = frame["reports_to_email"].str.lower()
    for row, key, cell in zip(frame.index, keys, cells, strict=True):
        if key is None:
            continue  # the row's account or email is already reported as wrong
        manager = (key[0], cell) if cell else None
        if manager == key:
            errors.add(row, "reports_to_email", "A person cannot report to themselves.")
        elif manager is not None and manager not in row_of and manager not in existing:
            errors.add(
                row,
                "reports_to_email",
                f"“{cell}” is neither in this file nor among the people of this account.",
            )
        else:
            managers[row] = edges[key] = manager
            continue
        edges.pop(key, None)  # reported already; not a loop as well

    for loop in _find_loops(edges):
        for index, key in enumerate(loop):
            if row_of.get(key) in managers:
                cycle = loop[index:] + loop[: index + 1]
                errors.add(
                    row_of[key],
                    "reports_to_email",
                    "Reporting loop: " + " → ".join(email for _, email in cycle) + ".",
                )
    return managers


def _left_on(status: str, current_left_on):
    """`left_on` following the status, as Contact.clean keeps it."""
    if status != Contact.Status.LEFT:
        return None
    return current_left_on or timezone.localdate()


@dataclass(frozen=True)
class _Lookups:
    """What `_plan_row` needs to describe changes in the words of the file."""

    manager_email: dict[int, str]  # existing contact pk → lower-case email
    user_email: dict[int, str]
    role_label: dict[str, str]

    def roles(self, codes: Iterable[str]) -> str:
        return "; ".join(sorted(self.role_label[code] for code in codes))


def _plan_row(plan: RowPlan, wanted: dict[str, Any], lookups: _Lookups) -> RowPlan:
    """Fill in what the import does with one row, given the values it asks for."""
    contact = plan.contact
    if contact is None:
        status = wanted.get("status") or Contact.Status.ACTIVE
        plan.values = {**wanted, "status": status, "left_on": _left_on(status, None)}
        plan.roles = plan.roles or frozenset()
        return plan

    statuses = dict(Contact.Status.choices)
    for name, value in wanted.items():
        old = getattr(contact, name)
        if old == value or (name == "status" and not value):  # empty status: keep it
            continue
        plan.values[name] = value
        if name == "owner_id":
            change = FieldChange(
                "owner_email", lookups.user_email.get(old, ""), lookups.user_email.get(value, "")
            )
        elif name == "status":
            plan.values["left_on"] = _left_on(value, contact.left_on)
            change = FieldChange("status", statuses[old], statuses[value])
        else:
            column = COLUMN_OF_FIELD[name]
            change = FieldChange(
                column, "" if old is None else str(old), "" if value is None else str(value)
            )
        plan.changes.append(change)

    if plan.roles is not None:
        if plan.roles == plan.current_roles:
            plan.roles = None
        else:
            plan.changes.append(
                FieldChange("roles", lookups.roles(plan.current_roles), lookups.roles(plan.roles))
            )
    if plan.sets_manager:
        old = lookups.manager_email.get(contact.reports_to_id, "")
        new = plan.manager[1] if plan.manager else ""
        if old == new:
            plan.sets_manager = False
        else:
            plan.changes.append(FieldChange("reports_to_email", old, new))
    plan.changes.sort(key=lambda change: COLUMNS.index(change.column))
    plan.action = Action.UPDATE if plan.changes else Action.UNCHANGED
    return plan


def validate(
    frame: pd.DataFrame, *, user: User | None, account: Account | None = None, filename: str = ""
) -> ImportPlan:
    """Check every row and plan the import; nothing is written.

    `account` fixes the account of every row (the upload page, `--account`); otherwise each row
    names its account. `user` must be able to contribute to every account involved; None is the
    operator's shell, which may import anywhere. Lookups are made once for the whole file (the
    accounts' people, users, roles), never per row.
    """
    plan = ImportPlan(filename=filename)
    errors = RowErrors()
    required = ["name", "email"] if account is not None else ["account", "name", "email"]
    missing = [column for column in required if column not in frame]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        errors.add(
            1,
            ", ".join(missing),
            f"The file has no {_quoted(missing)} column{plural}. The first row must hold the "
            "column names.",
        )
    elif frame.empty:
        errors.add(None, "", "The file has column names but no people.")
    elif account is not None and user is not None and not account.can_contribute(user):
        errors.add(None, "account", _unknown_account(account.name))
    if errors:
        plan.errors = errors
        return plan

    role_lookup = {}
    role_label = {}
    for code, label in BuyingRole.objects.values_list("code", "label"):
        role_lookup[normal_text(code)] = role_lookup[normal_text(label)] = code
        role_label[code] = label
    active_users, user_email = _users_by_email()

    accounts = _resolve_accounts(frame, user=user, account=account, errors=errors)
    _check_text(frame, errors)
    emails = _parse_emails(frame, errors)
    parse_roles = _roles_parser(role_lookup, list(role_label.values()))
    columns = {
        "influence": _parse_cells(frame, "influence", _parse_influence, errors),
        "owner_id": _parse_cells(frame, "owner_email", _owner_parser(active_users), errors),
        "status": _parse_cells(frame, "status", _parse_status, errors),
        **{
            field: frame[column].tolist()
            for column, field in TEXT_FIELDS.items()
            if column in frame
        },
    }
    roles = _parse_cells(frame, "roles", parse_roles, errors)
    keys = _row_keys(frame, accounts, emails, errors)
    existing, existing_roles = _existing_people({a for a in accounts if a is not None})
    managers = _resolve_managers(frame, keys, existing, errors)
    if errors:
        order = {column: index for index, column in enumerate(COLUMNS)}
        plan.errors = sorted(errors, key=lambda e: (e.row or 0, order.get(e.column, -1)))
        return plan

    plan.existing = existing
    lookups = _Lookups(
        manager_email={contact.pk: key[1] for key, contact in existing.items()},
        user_email=user_email,
        role_label=role_label,
    )
    given = {name: values for name, values in columns.items() if values is not None}
    for index, row in enumerate(frame.index):
        key = keys[index]
        contact = existing.get(key)
        row_plan = RowPlan(
            row=row,
            action=Action.CREATE,
            account=accounts[index],
            email=key[1],
            name=frame["name"].iat[index],
            contact=contact,
            roles=None if roles is None else roles[index],
            current_roles=existing_roles.get(contact.pk, frozenset()) if contact else frozenset(),
            sets_manager=row in managers,
            manager=managers.get(row),
        )
        wanted = {name: values[index] for name, values in given.items()}
        plan.rows.append(_plan_row(row_plan, wanted, lookups))
    return plan


# --- Apply ----------------------------------------------------------------------------------------


def change_reason(filename: str) -> str:
    """The reason recorded in every history entry of an import."""
    prefix = "Imported from "
    name = Path(filename).name or "a spreadsheet"
    room = REASON_MAX_LENGTH - len(prefix)
    return prefix + (name if len(name) <= room else name[: room - 1] + "…")


def _creation_waves(rows: list[RowPlan]) -> list[list[RowPlan]]:
    """New people grouped so that everyone's manager exists before them.

    Reports-to links point at people who may come later in the file; creating the people in
    waves (managers first) lets each one be written once, with their manager set.
    """
    by_key = {row.key: row for row in rows}
    depth: dict[Key, int] = {}
    for row in rows:
        chain: list[RowPlan] = []
        current: RowPlan | None = row
        while current is not None and current.key not in depth:
            if current in chain:
                raise ValueError("Reporting loop in a validated plan.")
            chain.append(current)
            current = by_key.get(current.manager) if current.manager else None
        base = depth[current.key] + 1 if current is not None else 0
        for offset, member in enumerate(reversed(chain)):
            depth[member.key] = base + offset
    waves: dict[int, list[RowPlan]] = {}
    for row in rows:
        waves.setdefault(depth[row.key], []).append(row)
    return [waves[level] for level in sorted(waves)]


def _create_people(rows: list[RowPlan], people: dict[Key, Contact]) -> list[Contact]:
    now = timezone.now()
    created = []
    for wave in _creation_waves(rows):
        contacts = [
            Contact(
                account=row.account,
                email=row.email,
                reports_to=people[row.manager] if row.manager else None,
                # What contact_create does: consent is recorded as given now.
                pulse_consent_at=now,
                **row.values,
            )
            for row in wave
        ]
        Contact.objects.bulk_create(contacts, batch_size=BATCH_SIZE)
        for row, contact in zip(wave, contacts, strict=True):
            row.contact = people[row.key] = contact
        created.extend(contacts)
    return created


def _update_people(rows: list[RowPlan], people: dict[Key, Contact]) -> list[Contact]:
    now = timezone.now()
    fields = {"updated_at"}  # bulk_update does not apply auto_now
    contacts = []
    for row in rows:
        contact = row.contact
        for name, value in row.values.items():
            setattr(contact, name, value)
            fields.add(Contact._meta.get_field(name).name)
        if row.sets_manager:
            contact.reports_to = people[row.manager] if row.manager else None
            fields.add("reports_to")
        contact.updated_at = now
        contacts.append(contact)
    if contacts:
        Contact.objects.bulk_update(contacts, sorted(fields), batch_size=BATCH_SIZE)
    return contacts


def _set_roles(rows: list[RowPlan]) -> None:
    """Replace the buying roles of the rows that set them (new people and changed roles)."""
    through = Contact.buying_roles.through
    replaced = [row.contact.pk for row in rows if row.contact and row.roles is not None]
    for start in range(0, len(replaced), BATCH_SIZE):
        through.objects.filter(contact_id__in=replaced[start : start + BATCH_SIZE]).delete()
    through.objects.bulk_create(
        [
            through(contact_id=row.contact.pk, buyingrole_id=code)
            for row in rows
            if row.roles
            for code in sorted(row.roles)
        ],
        batch_size=BATCH_SIZE,
    )


def _role_rows(contacts: list[Contact]) -> dict[int, list[tuple[int, str]]]:
    """The buying-role rows (through pk, role code) of `contacts`, by contact pk."""
    rows: dict[int, list[tuple[int, str]]] = {}
    through = Contact.buying_roles.through.objects
    pks = [contact.pk for contact in contacts]
    for start in range(0, len(pks), BATCH_SIZE):
        chunk = through.filter(contact_id__in=pks[start : start + BATCH_SIZE]).order_by("pk")
        for pk, contact_pk, code in chunk.values_list("pk", "contact_id", "buyingrole_id"):
            rows.setdefault(contact_pk, []).append((pk, code))
    return rows


def _record_history(contacts: list[Contact], *, update: bool, actor, reason: str) -> None:
    """One history entry per written person, with who, why and their roles at that moment,
    as simple_history records them for a single save."""
    if not contacts:
        return
    records = Contact.history.bulk_history_create(
        contacts,
        batch_size=BATCH_SIZE,
        update=update,
        default_user=actor,
        default_change_reason=reason,
    )
    role_rows = _role_rows(contacts)
    role_history = Contact.history.model.buying_roles.model
    role_history.objects.bulk_create(
        [
            role_history(history_id=record.pk, id=pk, contact_id=record.id, buyingrole_id=code)
            for record in records
            for pk, code in role_rows.get(record.id, ())
        ],
        batch_size=BATCH_SIZE,
    )


@transaction.atomic
def apply(plan: ImportPlan, *, actor: User | None) -> None:
    """Write a valid plan in one transaction: new people, changed people, roles, history."""
    if not plan.is_valid:
        raise ValueError("An import with errors cannot be applied.")
    people = dict(plan.existing)  # grows as people are created, to resolve reports-to links
    creates = [row for row in plan.rows if row.action is Action.CREATE]
    updates = [row for row in plan.rows if row.action is Action.UPDATE]
    created = _create_people(creates, people)
    updated = _update_people(updates, people)
    _set_roles(creates + updates)
    reason = change_reason(plan.filename)
    _record_history(created, update=False, actor=actor, reason=reason)
    _record_history(updated, update=True, actor=actor, reason=reason)
    if updates:
        changemaps_mark_dirty()  # status, influence, roles or departments may have changed
    plan.written = True


def import_contacts(
    data: bytes,
    *,
    filename: str,
    user: User | None,
    account: Account | None = None,
    dry_run: bool = False,
) -> ImportPlan:
    """Parse, validate and (unless `dry_run` or there are errors) write a spreadsheet of people.

    Returns the plan: its `errors` when nothing was written, otherwise what each row did.
    `user` is the importing user, recorded in the history (None: the operator's shell).
    """
    try:
        frame, ignored = parse(data)
    except ImportFileError as error:
        return ImportPlan(filename=filename, errors=[RowError(error.row, "", str(error))])
    # Validate and write in one transaction, so the checks hold for what is written.
    with nullcontext() if dry_run else transaction.atomic():
        plan = validate(frame, user=user, account=account, filename=filename)
        plan.ignored_columns = ignored
        if plan.is_valid and plan.has_changes and not dry_run:
            try:
                apply(plan, actor=user)
            except IntegrityError:
                # Someone added a person with the same email between our checks and the write.
                plan.rows = []
                plan.errors.append(
                    RowError(
                        None,
                        "",
                        "These people changed while the import ran, so nothing was imported. "
                        "Please try again.",
                    )
                )
    return plan


# --- Export ---------------------------------------------------------------------------------------


def contacts_export_frame(*, account: Account) -> pd.DataFrame:
    """The people of one (already visibility-checked) account in the import's columns.

    Status and roles are written as their labels, which the import reads back; an exported file
    re-imports without changes.
    """
    contacts = (
        account.contacts.select_related("owner", "reports_to")
        .prefetch_related("buying_roles")
        .order_by("name", "pk")
    )
    records = [
        {
            "account": account.name,
            "name": contact.name,
            "email": contact.email,
            "title": contact.job_title,
            "department": contact.department,
            "roles": "; ".join(role.label for role in contact.buying_roles.all()),
            "influence": contact.influence,
            "reports_to_email": contact.reports_to.email if contact.reports_to else "",
            "owner_email": contact.owner.email if contact.owner else "",
            "status": contact.get_status_display(),
            "phone": contact.phone,
            "location": contact.location,
        }
        for contact in contacts
    ]
    frame = frame_from_records(records, columns=COLUMNS)
    frame["influence"] = frame["influence"].astype("Int64")  # "3", not "3.0"; empty stays empty
    return frame
