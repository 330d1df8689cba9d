"""Reads for change maps: the rules' input DataFrames, and snapshots through the account gate.

`changemap_inputs` loads everything the rules need in seven queries, whatever the number of
people (values_list → DataFrame; no query per contact). Snapshots are global; every page reads
them through `Account.objects.visible_to(user)` with the `*_visible_to` functions below.
"""

from datetime import datetime

import pandas as pd
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account
from changemaps.models import ContactSnapshot, GroupSnapshot
from changemaps.rules import ChangeMapInputs
from contacts.models import BuyingRole, Contact
from pulses.models import Invitation, Response, Wave


def _frame(queryset: QuerySet, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)


def changemap_inputs(*, now: datetime | None = None) -> ChangeMapInputs:
    """The rules' inputs (see `changemaps.rules`) for every contact, from the database.

    A response counts as an answer in its wave whoever recorded it (by link, interview, call,
    workshop or import), and makes the contact "invited" there even without an invitation row.
    `pending` marks rows of waves still open now.
    """
    now = now or timezone.now()
    waves = _frame(Wave.objects.all(), ["id", "name", "opens_on", "status", "closes_at"])
    invited = _frame(Invitation.objects.all(), ["contact_id", "wave_id"])
    responses = _frame(Response.objects.all(), ["contact_id", "wave_id", "score"])
    responses["responded"] = True
    rows = invited.merge(responses, on=["contact_id", "wave_id"], how="outer")
    rows["responded"] = rows["responded"].fillna(False).astype(bool)
    rows["score"] = pd.to_numeric(rows["score"], errors="coerce").astype("float64")
    waves["open"] = (waves["status"] == Wave.Status.OPEN) & (
        pd.to_datetime(waves["closes_at"], utc=True) > pd.Timestamp(now)
    )
    waves = waves.rename(
        columns={"id": "wave_id", "name": "wave_name", "opens_on": "wave_opens_on"}
    )
    rows = rows.merge(waves[["wave_id", "wave_opens_on", "wave_name", "open"]], on="wave_id")
    rows["pending"] = rows.pop("open").astype(bool)
    rows["wave_name"] = rows["wave_name"].astype("category")
    rows = rows.sort_values(["contact_id", "wave_id"], ignore_index=True)

    contacts = _frame(
        Contact.objects.all(),
        ["id", "account_id", "status", "left_on", "influence", "department"],
    ).rename(columns={"id": "contact_id"})
    contacts["influence"] = pd.to_numeric(contacts["influence"], errors="coerce")
    contacts["left_on"] = pd.to_datetime(contacts["left_on"])
    roles = _frame(Contact.buying_roles.through.objects.all(), ["contact_id", "buyingrole_id"])
    by_contact = roles.sort_values(["contact_id", "buyingrole_id"]).groupby("contact_id")[
        "buyingrole_id"
    ]
    contacts["roles"] = contacts["contact_id"].map(by_contact.agg(tuple))
    contacts["roles"] = [r if isinstance(r, tuple) else () for r in contacts["roles"]]
    contacts = contacts.sort_values("contact_id", ignore_index=True)

    accounts = _frame(
        Account.objects.all(),
        ["id", "name", "territory_id", "territory__name", "segment_id", "segment__name",
         "owner_id", "owner__full_name", "owner__email"],
    )  # fmt: skip
    accounts.columns = [
        "account_id", "account_name", "territory_id", "territory_name", "segment_id",
        "segment_name", "owner_id", "owner_name", "owner_email",
    ]  # fmt: skip
    accounts["owner_name"] = accounts["owner_name"].where(
        accounts["owner_name"].fillna("") != "", accounts["owner_email"]
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
