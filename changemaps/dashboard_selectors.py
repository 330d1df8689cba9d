"""Reads for the change-map dashboards: snapshots only, through the account gate.

Every function here returns plain rows or DataFrames for `changemaps.dashboards` (pure) to
shape, and issues a fixed number of queries whatever the number of accounts or people: the
portfolio five (its accounts included; six for someone who sees every account while the
snapshots predate the portfolio's own rows) and one for its cache's version
(`portfolio_version`, the only one when the cache holds the page), an account page three
(after the account itself), a territory or segment page five. Nothing reads raw responses;
the snapshots are the dashboards' only source (see changemaps.services for how they stay
fresh). Accounts come through the gate, `Account.objects.visible_to(user)`, and snapshots only
through those accounts.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField, Window
from django.db.models.functions import Cast, RowNumber
from django.http import Http404
from django.urls import reverse

from accounts.models import Account, Segment, Territory, User
from changemaps.models import ContactSnapshot, GroupSnapshot
from changemaps.rules import PORTFOLIO_KEY, Thresholds, combine_groups
from changemaps.selectors import reaching
from contacts.models import Contact
from pulses.models import Wave

WAVE_COLUMNS = ["wave_id", "wave_name", "opens_on"]
ACCOUNT_COLUMNS = ["account_id", "account", "tier", "segment_id", "segment", "territory_id",
                   "territory", "owner_id", "owner"]  # fmt: skip
HISTORY_COLUMNS = ["wave_id", "account_id", "people", "counts", "previous_counts",
                   "weighted_score", "weight", "participation", "answered", "invited"]  # fmt: skip
LIST_COLUMNS = ["pockets", "supports", "call_list"]
# The portfolio's own rows (GroupSnapshot.Dimension.PORTFOLIO), one per wave.
TOTALS_COLUMNS = ["wave_id", *HISTORY_COLUMNS[2:], "call_list"]
PEOPLE_COLUMNS = ["wave_id", "contact_id", "account_id", "name", "job_title", "department",
                  "influence", "category", "previous_category", "reason", "last", "prev", "delta",
                  "n", "silent_streak", "key_person"]  # fmt: skip
_PEOPLE_FIELDS = ["wave_id", "contact_id", "account_id", "contact__name", "contact__job_title",
                  "contact__department", "contact__influence", "category", "previous_category",
                  "reason", "last", "prev", "delta", "n", "silent_streak", "key_person"]  # fmt: skip
# What the portfolio may be narrowed by: Account field → the filter's value.
PORTFOLIO_FILTERS = ("segment_id", "territory_id", "owner_id", "tier")
# The territory and segment pages: the URL's word → the Account field that groups by it.
GROUP_FIELDS = {"territory": "territory_id", "segment": "segment_id"}


@dataclass(frozen=True)
class DashboardData:
    """What one dashboard shows, as read from the snapshots.

    waves: every wave with snapshots, oldest first (WAVE_COLUMNS). accounts: the accounts shown,
    with their change-map `url` (ACCOUNT_COLUMNS + url). history: their account rows in every
    wave (HISTORY_COLUMNS; `previous_counts` only on an account page, None elsewhere). latest: the latest wave's account rows in full, lists included (as
    `combine_groups` takes them). people: person snapshots (PEOPLE_COLUMNS + url) — of the latest
    wave, or of every wave on an account page; only call-list people on the portfolio.

    totals: the whole portfolio's own rows, one per wave (dicts of TOTALS_COLUMNS), when the
    page shows every account (to someone who sees them all, unfiltered): `combine_groups` of
    every account's row, made with the snapshots, so the page need not combine them. With
    totals, history holds only what the movers need (each account's latest row and its last
    earlier row with a score) and latest carries no lists.
    """

    waves: pd.DataFrame
    accounts: pd.DataFrame
    history: pd.DataFrame
    latest: list[dict] = field(default_factory=list)
    people: pd.DataFrame = field(default_factory=lambda: _no_people())
    title: str = ""
    totals: list[dict] | None = None

    @property
    def latest_wave_id(self) -> int | None:
        return None if self.waves.empty else int(self.waves["wave_id"].iloc[-1])


# A stand-in id that no URL pattern's other text contains, for `_urls`.
_MARKER = 987654321987


def _urls(name: str, ids: Iterable) -> list[str]:
    """The URL of `name` for every id. `reverse()` costs ~50 µs a call (a second for 18,000
    people), so it runs once, with a marker id, and the rest are the same text around each id."""
    before, marker, after = reverse(name, args=[_MARKER]).partition(str(_MARKER))
    if not marker:  # a pattern that does not show its id as it is: reverse each one
        return [reverse(name, args=[int(pk)]) for pk in ids]
    return [f"{before}{int(pk)}{after}" for pk in ids]


def dashboard_waves(accounts: QuerySet[Account]) -> pd.DataFrame:
    """The waves that have snapshots and reached `accounts`, oldest first (by opening date, then
    id): one query."""
    computed = Exists(GroupSnapshot.objects.filter(wave=OuterRef("pk")))
    rows = (
        Wave.objects.filter(computed)
        .filter(reaching(accounts))
        .order_by("opens_on", "pk")
        .values_list("pk", "name", "opens_on")
    )
    return pd.DataFrame(list(rows), columns=WAVE_COLUMNS)


def _accounts(queryset: QuerySet[Account]) -> pd.DataFrame:
    rows = queryset.order_by("name", "pk").values_list(
        "pk", "name", "tier", "segment_id", "segment__name", "territory_id", "territory__name",
        "owner_id", "owner__full_name", "owner__email",
    )  # fmt: skip
    frame = pd.DataFrame(list(rows), columns=[*ACCOUNT_COLUMNS, "owner_email"])
    frame["owner"] = frame["owner"].where(frame["owner"].fillna("") != "", frame.pop("owner_email"))
    for column in ("segment_id", "territory_id"):
        frame[column] = frame[column].astype("Int64")
    frame["url"] = _urls("changemaps:account", frame["account_id"])
    return frame


def _people(queryset: QuerySet[ContactSnapshot]) -> pd.DataFrame:
    rows = queryset.order_by("wave_id", "contact_id").values_list(*_PEOPLE_FIELDS)
    frame = pd.DataFrame(list(rows), columns=PEOPLE_COLUMNS)
    frame["url"] = _urls("contacts:detail", frame["contact_id"])
    return frame


def _no_people() -> pd.DataFrame:
    return pd.DataFrame(columns=[*PEOPLE_COLUMNS, "url"])


def _history(rows: QuerySet[GroupSnapshot], *, full: bool = False) -> pd.DataFrame:
    """Account rows of every wave; `full`: with `previous_counts` and the lists, which only the
    latest wave needs (otherwise read on their own: `_latest_rows`). Decoding a JSON column
    costs ~10 µs a row, a quarter of a second per column at 2,000 accounts × 12 waves."""
    if full:
        fields = ["wave_id", "key", *HISTORY_COLUMNS[2:], *LIST_COLUMNS]
        columns = [*HISTORY_COLUMNS, *LIST_COLUMNS]
        return pd.DataFrame(
            list(rows.order_by("wave_id", "key").values_list(*fields)), columns=columns
        )
    fields = ["wave_id", "key", *(c for c in HISTORY_COLUMNS[2:] if c != "previous_counts")]
    columns = [c for c in HISTORY_COLUMNS if c != "previous_counts"]
    frame = pd.DataFrame(
        list(rows.order_by("wave_id", "key").values_list(*fields)), columns=columns
    )
    return frame.assign(previous_counts=None)[HISTORY_COLUMNS]


def _latest_rows(rows: QuerySet[GroupSnapshot], wave_id: int | None) -> list[dict]:
    if wave_id is None:
        return []
    fields = ["key", *HISTORY_COLUMNS[2:], *LIST_COLUMNS]
    return [
        dict(zip(["account_id", *fields[1:]], values, strict=True))
        for values in rows.filter(wave_id=wave_id).order_by("key").values_list(*fields)
    ]


def _decoded(texts: Sequence[str]) -> list:
    """JSON texts decoded with one call: Django decoding each value costs ~10 µs a row, a
    large part of the cold portfolio at 2,000 accounts."""
    return json.loads(f"[{','.join(texts)}]") if texts else []


def _movers_rows(rows: QuerySet[GroupSnapshot], waves: pd.DataFrame) -> list[tuple]:
    """Of `rows` (account rows), in `waves`: each account's latest-wave row and its last
    earlier row with a weighted score, all that `movers_frame` and `mix_frame` read, instead
    of every account's row in every wave (24,000 at 2,000 accounts): one query. Tuples of
    HISTORY_COLUMNS, oldest wave first, `counts` decoded and `previous_counts` None."""
    if waves.empty:
        return []
    latest = int(waves["wave_id"].iloc[-1])
    ranked = (
        rows.filter(wave_id__in=[int(pk) for pk in waves["wave_id"]])
        .filter(Q(wave_id=latest) | Q(weighted_score__isnull=False))
        .annotate(
            # Per account, newest wave first in the dashboards' order of waves: the latest
            # wave's row (if any) and then the last earlier one with a score.
            rank=Window(
                RowNumber(),
                partition_by=[F("key")],
                order_by=[F("wave__opens_on").desc(), F("wave_id").desc()],
            ),
            counts_text=Cast("counts", TextField()),
        )
        .filter(rank__lte=2)
        .order_by("wave_id", "key")
        .values_list("wave_id", "key", "people", "counts_text", *HISTORY_COLUMNS[5:])
    )
    found = list(ranked)
    counts = _decoded([row[3] for row in found])
    return [(*row[:3], decoded, None, *row[4:]) for row, decoded in zip(found, counts, strict=True)]


def _totals(wave_ids: Iterable[int]) -> list[dict]:
    """The portfolio's own rows of `wave_ids` (dicts of TOTALS_COLUMNS): one query."""
    rows = GroupSnapshot.objects.filter(
        dimension=GroupSnapshot.Dimension.PORTFOLIO,
        key=PORTFOLIO_KEY,
        wave_id__in=[int(pk) for pk in wave_ids],
    ).values_list(*TOTALS_COLUMNS)
    return [dict(zip(TOTALS_COLUMNS, row, strict=True)) for row in rows]


def _account_rows(accounts: QuerySet[Account]) -> QuerySet[GroupSnapshot]:
    return GroupSnapshot.objects.filter(
        dimension=GroupSnapshot.Dimension.ACCOUNT, key__in=accounts.values("pk")
    )


def portfolio_accounts(*, user) -> pd.DataFrame:
    """Every account `user` may see, with what the portfolio filters by: one query."""
    return _accounts(Account.objects.visible_to(user))


def _fingerprint(model, fields: Sequence[str], *, where: str = "") -> str:
    """SQL for the MD5 of `fields` of every row of `model` (in id order; optionally only those
    `where` says), so that any change to any of them changes it."""
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    names = [(meta.pk if name == "pk" else meta.get_field(name)).column for name in fields]
    columns = " || '|' || ".join(
        f"COALESCE(CAST({connection.ops.quote_name(name)} AS TEXT), '')" for name in names
    )
    pk = connection.ops.quote_name(meta.pk.column)
    joined = (
        "STRING_AGG(t.row, ';' ORDER BY t.pk)"
        if connection.vendor == "postgresql"
        else "GROUP_CONCAT(t.row, ';')"  # SQLite keeps the subquery's order
    )
    return (
        # Names from the models' metadata only; values go as parameters.
        f"(SELECT MD5({joined}) FROM (SELECT {pk} AS pk, {columns} AS row FROM {table} "  # noqa: S608 # nosec B608
        f"{where} ORDER BY {pk}) t)"
    )


def _largest_id(model) -> str:
    meta = model._meta
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    return f"(SELECT MAX({pk}) FROM {table})"  # noqa: S608 - names from metadata # nosec B608


def portfolio_version(*, user, people: Sequence[int] = ()) -> tuple:
    """Everything the portfolio of `user` shows depends on, in one query: a cached portfolio is
    served only while this is unchanged (`changemaps.views.portfolio`).

    - the accounts `user` sees and every field of theirs the page shows or filters by (a
      fingerprint, so `QuerySet.update()` and team changes count too, not only saves);
    - the names of every segment, territory and user (filter choices, owners);
    - the waves' names and dates;
    - the snapshots: a recompute rewrites them with new ids, so their largest ids change;
    - the names of `people` (those the cached page names: see `people_fingerprint`); a
      person not on the call list shows nowhere on the portfolio.

    Written as SQL: the ORM takes longer to compile this than the database to answer it.
    """
    visible, params = (
        Account.objects.visible_to(user).order_by().values("pk").query.sql_with_params()
    )
    accounts = _fingerprint(
        Account, ["pk", "name", "tier", "segment", "territory", "owner"],
        where=f"WHERE {connection.ops.quote_name('id')} IN ({visible})",
    )  # fmt: skip
    parts = [
        accounts,
        _fingerprint(Segment, ["pk", "name"]),
        _fingerprint(Territory, ["pk", "name"]),
        _fingerprint(User, ["pk", "full_name", "email"]),
        _fingerprint(Wave, ["pk", "name", "opens_on"]),
        _largest_id(GroupSnapshot),
        _largest_id(ContactSnapshot),
    ]
    if people:
        marks = ", ".join(["%s"] * len(people))
        parts.append(
            _fingerprint(
                Contact,
                ["pk", "name"],
                where=f"WHERE {connection.ops.quote_name('id')} IN ({marks})",
            )
        )
        params = (*params, *(int(pk) for pk in people))
    else:
        parts.append("NULL")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)  # nosec B608
        return tuple(cursor.fetchone())


def portfolio_data(
    *,
    user,
    accounts: pd.DataFrame,
    filters: Mapping[str, object],
    thresholds: Thresholds | None = None,
) -> DashboardData:
    """`user`'s portfolio narrowed by `filters` (PORTFOLIO_FILTERS → a value; absent: any).

    `accounts` is `portfolio_accounts(user=user)`, read once for the filters' choices too.
    Four queries. The call list is the accounts' lists combined (`combine_groups`, at most
    `list_max` people), so only those people are read, not everyone in a call-list category
    (16,000 of them at 2,000 accounts).

    - Every account, unfiltered, to someone who sees them all: the waves, the portfolio's own
      row of every wave (`totals`: the trend, the KPIs, the call list), each account's latest
      row and last earlier one (the mix and the movers), the call list's people.
    - Otherwise (or before the snapshots hold the portfolio's rows): the waves, the chosen
      accounts' rows of every wave, the latest wave's lists, the call list's people.
    """
    thresholds = thresholds or Thresholds.from_settings()
    filters = {name: value for name, value in filters.items() if name in PORTFOLIO_FILTERS}
    chosen = Account.objects.visible_to(user).filter(**filters)
    shown = accounts
    for name, value in filters.items():
        shown = shown[shown[name] == value]
    waves = dashboard_waves(chosen)
    wave_id = None if waves.empty else int(waves["wave_id"].iloc[-1])
    rows = _account_rows(chosen)
    totals = None
    if user.sees_all_accounts and not filters and wave_id is not None:
        totals = _totals(waves["wave_id"])
        if {row["wave_id"] for row in totals} != set(waves["wave_id"]):
            totals = None  # computed before the portfolio had rows of its own
    if totals is not None:
        found = _movers_rows(rows, waves)
        history = pd.DataFrame(found, columns=HISTORY_COLUMNS)
        # As read, not through pandas: a missing score stays None, as `_latest_rows` gives it.
        latest = [
            dict(zip(HISTORY_COLUMNS[1:], row[1:], strict=True))
            for row in found
            if row[0] == wave_id
        ]
        of_latest = next(row for row in totals if row["wave_id"] == wave_id)
        called = [entry["contact_id"] for entry in of_latest["call_list"]]
    else:
        history = _history(rows)
        latest = _latest_rows(rows, wave_id)
        called = [entry["contact_id"] for entry in call_list_of(latest, thresholds=thresholds)]
    to_call = ContactSnapshot.objects.filter(
        wave_id=wave_id, account__in=chosen.values("pk"), contact_id__in=called
    )
    return DashboardData(
        waves=waves,
        accounts=shown.reset_index(drop=True),
        history=history,
        latest=latest,
        people=_people(to_call) if wave_id else _no_people(),
        totals=totals,
    )


def call_list_of(latest: list[dict], *, thresholds: Thresholds) -> list[dict]:
    """The call list of several accounts' latest rows together, as the dashboards show it."""
    if not latest:
        return []
    rows = [{"pockets": [], "supports": [], **row} for row in latest]
    return combine_groups(rows, thresholds=thresholds)["call_list"]


def people_fingerprint(people: pd.DataFrame) -> str:
    """The MD5 of the call list's people's ids and names, as `portfolio_version` reads it from
    the database: a cached portfolio holds this for the people it names."""
    named = people.drop_duplicates("contact_id").sort_values("contact_id")
    text = ";".join(
        f"{int(pk)}|{name}" for pk, name in named[["contact_id", "name"]].itertuples(index=False)
    )
    return hashlib.md5(text.encode()).hexdigest() if text else None  # noqa: S324 - a fingerprint # nosec B324


def account_dashboard_data(*, account: Account) -> DashboardData:
    """One account's change map over every wave; `account` comes from `account_get_for_user`.

    Three queries: the waves, the account's rows in every wave, its people in every wave.
    """
    accounts = pd.DataFrame(
        [
            [
                account.pk, account.name, account.tier, account.segment_id,
                account.segment.name if account.segment else None, account.territory_id,
                account.territory.name if account.territory else None, account.owner_id,
                str(account.owner),
            ]
        ],
        columns=ACCOUNT_COLUMNS,
    )  # fmt: skip
    accounts["url"] = _urls("changemaps:account", accounts["account_id"])
    waves = dashboard_waves(Account.objects.filter(pk=account.pk))
    rows = GroupSnapshot.objects.filter(dimension=GroupSnapshot.Dimension.ACCOUNT, key=account.pk)
    history = _history(rows, full=True)
    latest_id = None if waves.empty else int(waves["wave_id"].iloc[-1])
    latest = history[history["wave_id"] == latest_id]
    return DashboardData(
        waves=waves,
        accounts=accounts,
        history=history[HISTORY_COLUMNS],
        latest=latest.to_dict("records"),
        people=_people(ContactSnapshot.objects.filter(account=account)),
        title=account.name,
    )


def group_dashboard_data(*, user, dimension: str, key: int) -> DashboardData:
    """A territory's or segment's change map, made of the accounts in it that `user` may see.

    404 when there are none (an unknown key, or none of them visible), so a page never tells
    an outsider that a territory exists. Five queries: the accounts, the waves, their rows in
    every wave, the latest wave's lists, the latest wave's people.
    """
    chosen = Account.objects.visible_to(user).filter(**{GROUP_FIELDS[dimension]: key})
    accounts = _accounts(chosen)
    if accounts.empty:
        raise Http404("No such group among the accounts you may see.")
    waves = dashboard_waves(chosen)
    rows = _account_rows(chosen)
    wave_id = None if waves.empty else int(waves["wave_id"].iloc[-1])
    people = ContactSnapshot.objects.filter(wave_id=wave_id, account__in=chosen.values("pk"))
    return DashboardData(
        waves=waves,
        accounts=accounts,
        history=_history(rows),
        latest=_latest_rows(rows, wave_id),
        people=_people(people) if wave_id else _no_people(),
        title=str(accounts[dimension].iloc[0]),
    )
