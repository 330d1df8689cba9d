"""Exporting a change map as CSV or XLSX: one row per person, for the scope a page shows.

An account's change map, a territory's or a segment's (the accounts in it the user may see), or
the portfolio narrowed by its filters: each reads the latest wave's person snapshots through
`changemaps.selectors.contact_snapshots_visible_to` (the account gate), in one query streamed as
it is written. Cells are neutralised by core.spreadsheets.

`changemap_export_rows` (the `export_changemap` command) stays as it is: it is unscoped, for
operators, and its JSON shape is a contract of the command.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from accounts.models import Account, User
from accounts.selectors import account_get_for_user
from changemaps.categories import Category
from changemaps.dashboard_selectors import GROUP_FIELDS, portfolio_accounts
from changemaps.forms import PortfolioFilterForm
from changemaps.models import ContactSnapshot
from changemaps.selectors import changemap_latest_wave, contact_snapshots_visible_to
from core.spreadsheets import (
    ExportRequestError,
    ExportRows,
    audited_export_response,
    export_filename,
    export_format,
)
from pulses.models import Wave

COLUMNS = ["account", "territory", "segment", "account_owner", "contact", "email", "job_title",
           "department", "influence", "relationship_owner", "category", "previous_category",
           "reason", "last", "prev", "delta", "scores_given", "silent_streak", "key_person",
           "wave"]  # fmt: skip
FIELDS = ["account__name", "account__territory__name", "account__segment__name",
          "account__owner__full_name", "account__owner__email", "contact__name", "contact__email",
          "contact__job_title", "contact__department", "contact__influence",
          "contact__owner__full_name", "contact__owner__email", "category", "previous_category",
          "reason", "last", "prev", "delta", "n", "silent_streak", "key_person",
          "wave__name"]  # fmt: skip
CHUNK = 2_000
CATEGORIES = dict(Category.choices)


def _rows(snapshots: QuerySet[ContactSnapshot]) -> Iterator[tuple]:
    rows = snapshots.order_by("account__name", "account_id", "contact__name", "contact_id")
    for (account, territory, segment, account_owner, account_owner_email, name, email, title,
         department, influence, owner, owner_email, category, previous, reason, last, prev, delta,
         n, silent_streak, key_person, wave) in rows.values_list(*FIELDS).iterator(CHUNK):  # fmt: skip
        yield (
            account, territory or "", segment or "", account_owner or account_owner_email or "",
            name, email, title, department, influence, owner or owner_email or "",
            CATEGORIES.get(category, category), CATEGORIES.get(previous, previous), reason, last,
            prev, delta, n, silent_streak, "yes" if key_person else "no", wave,
        )  # fmt: skip


def changemap_export_rows_for_user(
    *, user: User, accounts: QuerySet[Account], wave: Wave | None
) -> ExportRows:
    """The people of `accounts` that `user` may see, as of `wave` (the latest computed wave;
    None: nothing computed yet, just the header), one row each: COLUMNS. Two queries."""
    if wave is None:
        return ExportRows(header=list(COLUMNS), rows=iter(()), count=0)
    snapshots = contact_snapshots_visible_to(user, wave=wave).filter(account__in=accounts)
    return ExportRows(header=list(COLUMNS), rows=_rows(snapshots), count=snapshots.count())


# --- Views: one per page with a change map --------------------------------------------------------


def _export(request, *, scope: str, name: str, accounts: QuerySet[Account], filters: dict):
    try:
        kind = export_format(request.GET.get("format"))
    except ExportRequestError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    wave = changemap_latest_wave(accounts=accounts)
    export = changemap_export_rows_for_user(user=request.user, accounts=accounts, wave=wave)
    return audited_export_response(
        request,
        export=export,
        kind=kind,
        name="changemap",
        target=f"Change map · {name}" + (f" · {wave.name}" if wave else ""),
        target_id=filters.get(scope, ""),
        filters={"scope": scope, **filters, "wave": wave.pk if wave else None},
        filename=export_filename("changemap", name, extension=kind),
        sheet_name="Change map",
    )


@login_required
@require_GET
def export_account_changemap(request, pk: int):
    account = account_get_for_user(user=request.user, pk=pk)
    accounts = Account.objects.filter(pk=account.pk)
    return _export(
        request, scope="account", name=account.name, accounts=accounts, filters={"account": pk}
    )


def _export_group(request, *, dimension: str, pk: int):
    accounts = Account.objects.visible_to(request.user).filter(**{GROUP_FIELDS[dimension]: pk})
    # The group's name, and proof that the user sees at least one account in it: like the
    # page, an unknown group and one with nothing visible are the same 404.
    name = accounts.values_list(f"{dimension}__name", flat=True).first()
    if name is None:
        raise Http404("No such group among the accounts you may see.")
    return _export(request, scope=dimension, name=name, accounts=accounts, filters={dimension: pk})


@login_required
@require_GET
def export_territory_changemap(request, pk: int):
    return _export_group(request, dimension="territory", pk=pk)


@login_required
@require_GET
def export_segment_changemap(request, pk: int):
    return _export_group(request, dimension="segment", pk=pk)


@login_required
@require_GET
def export_portfolio_changemap(request):
    """The portfolio as filtered on the page (segment, territory, owner, tier in the query)."""
    form = PortfolioFilterForm(request.GET or None, accounts=portfolio_accounts(user=request.user))
    filters = form.filters()
    accounts = Account.objects.visible_to(request.user).filter(**filters)
    return _export(request, scope="portfolio", name="portfolio", accounts=accounts, filters=filters)
