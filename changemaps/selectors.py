"""Reads for change maps: the rules' input DataFrames, and snapshots through the account gate.

`changemap_inputs` loads everything the rules need in six queries, whatever the number of
people (`core.frames`: rows as CSV text on PostgreSQL, no Python object per row). Snapshots are
global; every page reads them through `Account.objects.visible_to(user)` with the
`*_visible_to` functions below.
"""

from datetime import datetime
from itertools import pairwise

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account
from changemaps.models import ContactSnapshot, GroupSnapshot
from changemaps.rules import ChangeMapInputs
from contacts.models import BuyingRole, Contact
from core.frames import frame_from_query, frame_from_queryset
from pulses.models import Invitation, Response, Wave


def _answered_or_invited_sql() -> str:
    """Every response (score, responded) and every invitation nobody answered (no score, not
    responded): one row per (contact, wave), joined in the database so one stream comes back.
    A (contact, wave) has at most one of each (unique constraints)."""
    quote = connection.ops.quote_name

    def names(model):
        meta = model._meta
        return quote(meta.db_table), *(quote(meta.get_field(f).column) for f in ("contact", "wave"))

    responses, r_contact, r_wave = names(Response)
    invitations, i_contact, i_wave = names(Invitation)
    score = quote(Response._meta.get_field("score").column)
    return (
        f"SELECT r.{r_contact}, r.{r_wave}, r.{score}, TRUE FROM {responses} r "  # noqa: S608 - names from the models, no values # nosec B608
        f"UNION ALL SELECT i.{i_contact}, i.{i_wave}, NULL, FALSE FROM {invitations} i "
        f"WHERE NOT EXISTS (SELECT 1 FROM {responses} r "
        f"WHERE r.{r_contact} = i.{i_contact} AND r.{r_wave} = i.{i_wave})"
    )


def changemap_inputs(*, now: datetime | None = None) -> ChangeMapInputs:
    """The rules' inputs (see `changemaps.rules`) for every contact, from the database.

    A response counts as an answer in its wave whoever recorded it (by link, interview, call,
    workshop or import), and makes the contact "invited" there even without an invitation row.
    `pending` marks rows of waves still open now. Invitation rows are sorted by contact, wave.
    """
    now = now or timezone.now()
    waves = frame_from_queryset(
        Wave.objects.order_by(),
        {
            "id": "int",
            "name": "text",
            "opens_on": "date",
            "status": "text",
            "closes_at": "datetime",
        },
    )
    rows = frame_from_query(
        _answered_or_invited_sql(),
        (),
        {"contact_id": "int", "wave_id": "int", "score": "float", "responded": "bool"},
    )
    order = np.lexsort((rows["wave_id"].to_numpy(), rows["contact_id"].to_numpy()))
    rows = rows.take(order).reset_index(drop=True)
    # Each row's wave, by position in `waves` (every row has one: foreign keys).
    at = pd.Index(waves["id"]).get_indexer(rows["wave_id"].to_numpy())
    rows["wave_opens_on"] = waves["opens_on"].to_numpy()[at]
    names = pd.Index(sorted(set(waves["name"])))
    rows["wave_name"] = pd.Categorical.from_codes(
        names.get_indexer(waves["name"])[at], categories=names
    )
    is_open = (waves["status"] == Wave.Status.OPEN) & (waves["closes_at"] > pd.Timestamp(now))
    rows["pending"] = is_open.to_numpy()[at]

    contacts = frame_from_queryset(
        Contact.objects.order_by(),
        {"id": "int", "account_id": "int", "status": "text", "left_on": "date",
         "influence": "float", "department": "text"},
    ).rename(columns={"id": "contact_id"})  # fmt: skip
    contacts = contacts.sort_values("contact_id", ignore_index=True)
    roles = frame_from_queryset(
        Contact.buying_roles.through.objects.order_by(),
        {"contact_id": "int", "buyingrole_id": "text"},
    ).sort_values(["contact_id", "buyingrole_id"], ignore_index=True)
    # Each contact's codes as a tuple, sorted: a slice per contact, not a groupby (whose
    # per-group Python call took longer than reading the table).
    holders = roles["contact_id"].to_numpy()
    codes = roles["buyingrole_id"].tolist()
    bounds = [*np.flatnonzero(np.diff(holders, prepend=-1)).tolist(), len(codes)]
    held = {int(holders[start]): tuple(codes[start:end]) for start, end in pairwise(bounds)}
    contacts["roles"] = [held.get(contact_id, ()) for contact_id in contacts["contact_id"].tolist()]

    accounts = frame_from_queryset(
        Account.objects.all(),
        {"id": "int", "name": "text", "territory_id": "float", "territory__name": "text",
         "segment_id": "float", "segment__name": "text", "owner_id": "float",
         "owner__full_name": "text", "owner__email": "text"},
    )  # fmt: skip
    accounts.columns = [
        "account_id", "account_name", "territory_id", "territory_name", "segment_id",
        "segment_name", "owner_id", "owner_name", "owner_email",
    ]  # fmt: skip
    accounts["owner_name"] = accounts["owner_name"].where(
        accounts["owner_name"] != "", accounts["owner_email"]
    )
    role_labels = dict(BuyingRole.objects.values_list("code", "label"))
    return ChangeMapInputs(
        invitations=rows, contacts=contacts, accounts=accounts, role_labels=role_labels
    )


def reaching(accounts: QuerySet[Account]) -> Q:
    """A filter on waves: those that invited, or heard from, someone at `accounts`.

    Programmes are company-wide, but a wave's name is only shown to readers of the accounts it
    reached: a manager's dashboards and exports never name another team's pulses.
    """
    invited = Invitation.objects.filter(wave=OuterRef("pk"), contact__account__in=accounts)
    answered = Response.objects.filter(wave=OuterRef("pk"), contact__account__in=accounts)
    return Q(Exists(invited)) | Q(Exists(answered))


def changemap_latest_wave(*, accounts: QuerySet[Account] | None = None) -> Wave | None:
    """The newest wave that has snapshots (and that reached `accounts`, when given)."""
    computed = Wave.objects.filter(Exists(ContactSnapshot.objects.filter(wave=OuterRef("pk"))))
    if accounts is not None:
        computed = computed.filter(reaching(accounts))
    return computed.order_by("-opens_on", "-pk").first()


def contact_snapshots_visible_to(user, *, wave: Wave | None = None) -> QuerySet[ContactSnapshot]:
    """The people snapshots `user` may see, of `wave` (default: the latest computed wave)."""
    wave = wave or changemap_latest_wave()
    if wave is None:
        return ContactSnapshot.objects.none()
    return ContactSnapshot.objects.filter(
        wave=wave, account__in=Account.objects.visible_to(user)
    ).select_related("contact", "account")


def contact_snapshot_history_visible_to(user, *, contact_id: int) -> QuerySet[ContactSnapshot]:
    """One person's snapshots over the waves, oldest first; none outside `user`'s accounts."""
    return (
        ContactSnapshot.objects.filter(
            contact_id=contact_id, contact__account__in=Account.objects.visible_to(user)
        )
        .select_related("wave")
        .order_by("wave__opens_on", "wave_id")
    )


def group_snapshots_visible_to(
    user, *, dimension: str = GroupSnapshot.Dimension.ACCOUNT, wave: Wave | None = None
) -> QuerySet[GroupSnapshot]:
    """The group snapshots `user` may see, of `wave` (default: the latest computed wave).

    Account rows: the accounts `user` may see. Territory, segment and owner rows sum accounts
    the user may not see (and name their people in call lists), so only people who see every
    account get them, except an owner's own row (they see every account they own). For an
    account manager's territory view, combine their visible account rows with
    `changemaps.rules.combine_groups`.
    """
    wave = wave or changemap_latest_wave()
    if wave is None:
        return GroupSnapshot.objects.none()
    rows = GroupSnapshot.objects.filter(wave=wave, dimension=dimension)
    if dimension == GroupSnapshot.Dimension.ACCOUNT:
        visible = Account.objects.visible_to(user).values("pk")
        return rows.filter(key__in=visible)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return rows.none()
    if user.sees_all_accounts:
        return rows
    if dimension == GroupSnapshot.Dimension.OWNER:
        return rows.filter(key=user.pk)
    return rows.none()


def account_group_snapshot_get_for_user(
    user, *, account_id: int, wave: Wave | None = None
) -> GroupSnapshot:
    """One account's aggregates as of `wave` (default: latest); 404 outside `user`'s accounts."""
    return get_object_or_404(
        group_snapshots_visible_to(user, dimension=GroupSnapshot.Dimension.ACCOUNT, wave=wave),
        key=account_id,
    )


def changemap_export_rows(
    *, wave: Wave | None = None, account: Account | None = None
) -> list[dict]:
    """Per person, for exports: account, email, name, category, reason, last, delta,
    silent_streak, key_person, of `wave` (default: the latest computed wave). Unscoped: callers
    are operators (the management command) or pass an account they already gated."""
    wave = wave or changemap_latest_wave()
    if wave is None:
        return []
    rows = ContactSnapshot.objects.filter(wave=wave)
    if account is not None:
        rows = rows.filter(account=account)
    return [
        {
            "account": account_name,
            "email": email,
            "name": name,
            "category": category,
            "reason": reason,
            "last": last,
            "delta": delta,
            "silent_streak": silent_streak,
            "key_person": key_person,
        }
        for account_name, email, name, category, reason, last, delta, silent_streak, key_person in (
            rows.order_by("account__name", "contact__name", "contact_id").values_list(
                "account__name",
                "contact__email",
                "contact__name",
                "category",
                "reason",
                "last",
                "delta",
                "silent_streak",
                "key_person",
            )
        )
    ]
