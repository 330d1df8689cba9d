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
`left_on` following the status as `Contact.clean` does. New people and every history entry go
in as prepared rows rather than through bulk_create (see "Apply"; the rows are the same,
tests/contacts/test_import_writer.py compares them). If the services grow side effects (an
event when a key person leaves, say), call them from `apply` too.
"""

import re
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Account, User
from changemaps.services import changemaps_mark_dirty
from contacts.models import BuyingRole, Contact
from core.frames import copy_rows_into
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
STATUS_LABELS = dict(Contact.Status.choices)
ACTIVE, LEFT = Contact.Status.ACTIVE, Contact.Status.LEFT  # once: enum lookups add up per row
STATUS_ALIASES = {
    normal_text(text): code for code, label in Contact.Status.choices for text in (code, label)
} | {normal_text("left"): Contact.Status.LEFT}


@dataclass(frozen=True)
class FieldChange:
    """One column of an existing person that the import changes, as text for people to read."""

    column: str
    old: str
    new: str


class ExistingPerson(NamedTuple):
    """Someone already in the account, as the import compares them: the fields it may change.

    Tuples from values_list, not Contact instances: building 10,000 instances (and converting
    their four timestamps) was half of re-importing an unchanged file. `apply` loads the
    instances of the people it changes.
    """

    pk: int
    account_id: int
    email: str
    name: str
    job_title: str
    department: str
    phone: str
    location: str
    influence: int | None
    owner_id: int | None
    status: str
    left_on: date | None
    reports_to_id: int | None


@dataclass(slots=True)  # one per row, 10,000s at a time: no __dict__ each
class RowPlan:
    """What the import does with one row."""

    row: int
    action: Action
    account: Account
    email: str
    name: str
    contact: ExistingPerson | None = None  # the existing person, for updates and unchanged rows
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
    existing: dict[Key, ExistingPerson] = field(default_factory=dict)
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
    return len(value) <= _EMAIL_MAX_LENGTH


# The two patterns Django's EmailValidator tries first, compiled once: an address that matches
# both (and is short enough) is valid, so only the others need the validator itself, whose
# exceptions and lazy patterns cost ten times as much per address.
_EMAIL_USER = re.compile(validate_email.user_regex.pattern, validate_email.user_regex.flags)
_EMAIL_DOMAIN = re.compile(validate_email.domain_regex.pattern, validate_email.domain_regex.flags)
_EMAIL_MAX_LENGTH = Contact._meta.get_field("email").max_length


def _plainly_email(value: str) -> bool:
    user, at, domain = value.rpartition("@")
    return bool(
        at
        and len(value) <= _EMAIL_MAX_LENGTH
        and _EMAIL_USER.match(user)
        and _EMAIL_DOMAIN.match(domain)
    )


def _parse_emails(frame: pd.DataFrame, errors: RowErrors) -> list[str]:
    """Lower-case emails; "" where the cell is empty or not an email address."""
    emails = [email.lower() for email in frame["email"].tolist()]
    for index, email in enumerate(emails):
        if email and _plainly_email(email):
            continue
        row = frame.index[index]
        if not email:
            errors.add(row, "email", "Email is missing.")
        elif not _is_email(email):
            errors.add(row, "email", f"“{email}” is not a valid email address.")
            emails[index] = ""
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
) -> tuple[dict[Key, ExistingPerson], dict[int, frozenset[str]]]:
    """Everyone already in `accounts` by key, and their buying role codes by contact pk."""
    pks = [account.pk for account in accounts]
    rows = Contact.objects.filter(account__in=pks).order_by().values_list(*ExistingPerson._fields)
    people = {}
    for row in rows:
        person = ExistingPerson._make(row)
        people[(person.account_id, person.email.lower())] = person
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
    frame: pd.DataFrame,
    keys: list[Key | None],
    existing: dict[Key, ExistingPerson],
    errors: RowErrors,
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
    if status != LEFT:
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
        status = wanted.get("status") or ACTIVE
        plan.values = {**wanted, "status": status, "left_on": _left_on(status, None)}
        plan.roles = plan.roles or frozenset()
        return plan

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
            change = FieldChange("status", STATUS_LABELS[old], STATUS_LABELS[value])
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
    # By identity: hashing 10,000 references to the same account through Model.__hash__ adds up.
    involved = {id(account): account for account in accounts if account is not None}
    existing, existing_roles = _existing_people(involved.values())
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
    wanted_rows = zip(*given.values(), strict=True) if given else repeat(())
    names = frame["name"].tolist()
    for index, (row, wanted) in enumerate(zip(frame.index, wanted_rows, strict=False)):
        key = keys[index]
        contact = existing.get(key)
        row_plan = RowPlan(
            row=row,
            action=Action.CREATE,
            account=accounts[index],
            email=key[1],
            name=names[index],
            contact=contact,
            roles=None if roles is None else roles[index],
            current_roles=existing_roles.get(contact.pk, frozenset()) if contact else frozenset(),
            sets_manager=row in managers,
            manager=managers.get(row),
        )
        plan.rows.append(_plan_row(row_plan, dict(zip(given, wanted, strict=True)), lookups))
    return plan


# --- Apply ----------------------------------------------------------------------------------------
# New people, roles and history entries are written as prepared rows, one table at a time,
# through core.frames.copy_rows_into (COPY on PostgreSQL, batched executemany on SQLite).
# bulk_create builds a model instance per row and compiles every value through its field
# (600,000 calls for 10,000 new people with their history): that was nine tenths of an import.
# Primary keys are reserved first, so people, reporting lines, roles and history refer to each
# other without reading anything back.

# Fields whose Python values (str, int, None) the database drivers take as they are; the values
# of any other field go through `get_db_prep_save`, as bulk_create sends them.
_PLAIN_FIELD_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _reserve_ids(model, count: int) -> list[int]:
    """`count` new primary keys for `model`: those the database would give the next rows.

    PostgreSQL takes them from the column's sequence. SQLite (AUTOINCREMENT) continues after the
    largest key ever used; our transactions take the write lock when they begin
    (transaction_mode IMMEDIATE), and were another writer to take a key first anyway, the insert
    would fail as a duplicate rather than mix two people up.
    """
    if not count:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(pk for (pk,) in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"Reserving primary keys on {connection.vendor}.")
        quote = connection.ops.quote_name
        sql = (
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608 - names from the model, values bound # nosec B608
            f"COALESCE(MAX({quote(column)}), 0)) FROM {quote(table)}"
        )
        cursor.execute(sql, [table])
        (last,) = cursor.fetchone()
    return list(range(last + 1, last + count + 1))


def _insert_rows(model, columns: dict[str, Any], count: int) -> None:
    """Insert `count` rows into `model`'s table (core.frames.copy_rows_into: COPY on PostgreSQL).

    `columns` maps field attnames to a list holding each row's value, or to a single value (not
    a list) that every row has. Values are what the model's fields hold in Python; those that
    drivers do not take as they are (dates, times) are prepared as bulk_create prepares them.
    """
    if not count:
        return
    fields = [model._meta.get_field(name) for name in columns]
    prepared = []
    for model_field, values in zip(fields, columns.values(), strict=True):
        if not isinstance(values, list):
            prepared.append(repeat(model_field.get_db_prep_save(values, connection), count))
        elif model_field.get_internal_type() in _PLAIN_FIELD_TYPES:
            prepared.append(values)
        else:  # each distinct value prepared once
            ready = {
                value: model_field.get_db_prep_save(value, connection) for value in set(values)
            }
            prepared.append([ready[value] for value in values])
    rows = zip(*prepared, strict=False)  # the single values repeat without end
    # COPY's errors become Django's too: a duplicate is an IntegrityError, which the import reports.
    with connection.wrap_database_errors:
        copy_rows_into(model, list(columns), rows)


def change_reason(filename: str) -> str:
    """The reason recorded in every history entry of an import."""
    prefix = "Imported from "
    name = Path(filename).name or "a spreadsheet"
    room = REASON_MAX_LENGTH - len(prefix)
    return prefix + (name if len(name) <= room else name[: room - 1] + "…")


@dataclass(frozen=True)
class _Stamp:
    """When, by whom and why an import writes: the same for every row it writes."""

    now: datetime
    user_id: int | None
    reason: str


def _create_people(rows: list[RowPlan], pks: dict[Key, int], stamp: _Stamp) -> dict[str, Any]:
    """Insert the new people with every field as creating them one by one would set it, adding
    their keys to `pks`; returns the columns written. Someone may report to a person later in
    the file: the foreign keys are checked when the transaction commits."""
    ids = _reserve_ids(Contact, len(rows))
    pks.update(zip((row.key for row in rows), ids, strict=True))
    given = rows[0].values if rows else {}  # validate() gives every new row the same fields
    columns: dict[str, Any] = {}
    for model_field in Contact._meta.concrete_fields:
        name = model_field.attname
        if name == "id":
            columns[name] = ids
        elif name == "account_id":
            columns[name] = [row.account.pk for row in rows]
        elif name == "email":
            columns[name] = [row.email for row in rows]
        elif name == "reports_to_id":
            columns[name] = [pks[row.manager] if row.manager else None for row in rows]
        elif name in given:
            columns[name] = [row.values[name] for row in rows]
        elif name == "pulse_consent_at":
            columns[name] = stamp.now  # what contact_create does: consent is recorded as given now
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            columns[name] = stamp.now
        else:
            columns[name] = model_field.get_default()
    _insert_rows(Contact, columns, len(rows))
    return columns


def _update_people(rows: list[RowPlan], pks: dict[Key, int], stamp: _Stamp) -> list[Contact]:
    """Write the changes of the people who change; returns them as they now are."""
    fields = {"updated_at"}  # bulk_update does not apply auto_now
    instances = Contact.objects.in_bulk([row.contact.pk for row in rows])
    contacts = []
    for row in rows:
        contact = instances[row.contact.pk]
        for name, value in row.values.items():
            setattr(contact, name, value)
            fields.add(Contact._meta.get_field(name).name)
        if row.sets_manager:
            contact.reports_to_id = pks[row.manager] if row.manager else None
            fields.add("reports_to")
        contact.updated_at = stamp.now
        contacts.append(contact)
    if contacts:
        Contact.objects.bulk_update(contacts, sorted(fields), batch_size=BATCH_SIZE)
    return contacts


def _set_roles(rows: list[RowPlan], pks: dict[Key, int]) -> dict[int, list[tuple[int, str]]]:
    """Replace the buying roles of the rows that set them (new people and changed roles);
    returns the role rows written (through pk, role code) by contact pk."""
    through = Contact.buying_roles.through
    replaced = [
        pks[row.key] for row in rows if row.action is Action.UPDATE and row.roles is not None
    ]
    for start in range(0, len(replaced), BATCH_SIZE):
        through.objects.filter(contact_id__in=replaced[start : start + BATCH_SIZE]).delete()
    contact_ids, codes = [], []
    for row in rows:
        for code in sorted(row.roles or ()):
            contact_ids.append(pks[row.key])
            codes.append(code)
    ids = _reserve_ids(through, len(codes))
    _insert_rows(through, {"id": ids, "contact_id": contact_ids, "buyingrole_id": codes}, len(ids))
    written: dict[int, list[tuple[int, str]]] = {}
    for pk, contact_pk, code in zip(ids, contact_ids, codes, strict=True):
        written.setdefault(contact_pk, []).append((pk, code))
    return written


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


def _record_history(
    people: dict[str, Any],
    count: int,
    role_rows: dict[int, list[tuple[int, str]]],
    *,
    history_type: str,
    stamp: _Stamp,
) -> None:
    """One history entry per written person, with who, why and their roles at that moment, as
    simple_history's bulk_history_create records them. `people` holds the people's columns as
    `_insert_rows` takes them (at least every field the history tracks)."""
    history = Contact.history.model
    ids = _reserve_ids(history, count)
    tracked = {
        model_field.attname: people[model_field.attname] for model_field in history.tracked_fields
    }
    _insert_rows(
        history,
        {
            **tracked,
            "history_id": ids,
            "history_date": stamp.now,
            "history_change_reason": stamp.reason,
            "history_type": history_type,
            "history_user_id": stamp.user_id,
        },
        count,
    )
    columns: dict[str, list] = {"id": [], "contact_id": [], "buyingrole_id": [], "history_id": []}
    for history_id, contact_pk in zip(ids, people["id"], strict=True):
        for pk, code in role_rows.get(contact_pk, ()):
            columns["id"].append(pk)
            columns["contact_id"].append(contact_pk)
            columns["buyingrole_id"].append(code)
            columns["history_id"].append(history_id)
    role_history = history.buying_roles.model
    role_ids = _reserve_ids(role_history, len(columns["id"]))
    _insert_rows(role_history, {"m2m_history_id": role_ids, **columns}, len(role_ids))


def _history_user_id(actor: User | None) -> int | None:
    # bulk_history_create's fallback without an actor: the request's user, if any.
    user = actor or Contact.history.model.get_default_history_user(Contact())
    return user.pk if user else None


@transaction.atomic
def apply(plan: ImportPlan, *, actor: User | None) -> None:
    """Write a valid plan in one transaction: new people, changed people, roles, history.

    Every row written shares one timestamp (creation, update, consent, history).
    """
    if not plan.is_valid:
        raise ValueError("An import with errors cannot be applied.")
    # Everyone's primary key by (account, email): grows as people are created, for reports-to.
    pks = {key: contact.pk for key, contact in plan.existing.items()}
    stamp = _Stamp(timezone.now(), _history_user_id(actor), change_reason(plan.filename))
    creates = [row for row in plan.rows if row.action is Action.CREATE]
    updates = [row for row in plan.rows if row.action is Action.UPDATE]
    created = _create_people(creates, pks, stamp)
    updated = _update_people(updates, pks, stamp)
    written_roles = _set_roles(creates + updates, pks)
    _record_history(created, len(creates), written_roles, history_type="+", stamp=stamp)
    if updated:
        tracked = [model_field.attname for model_field in Contact.history.model.tracked_fields]
        columns = {name: [getattr(contact, name) for contact in updated] for name in tracked}
        columns["id"] = [contact.pk for contact in updated]
        role_rows = _role_rows(updated)
        _record_history(columns, len(updated), role_rows, history_type="~", stamp=stamp)
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
