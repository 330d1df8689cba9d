"""The change-map dashboards: the portfolio, an account's change map, a territory's, a segment's.

Each view gates (the account gate, 404 outside it), reads once through
`changemaps.dashboard_selectors`, shapes with the pure `changemaps.dashboards`, and renders.
The portfolio answers htmx requests with only its charts and tables, so filters apply without
a full page load; those are cached (rendered) until anything they show changes.
"""

import hashlib
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.selectors import account_get_for_user
from changemaps import dashboard_selectors as selectors
from changemaps import dashboards
from changemaps.categories import CATEGORIES
from changemaps.forms import PortfolioFilterForm
from changemaps.rules import Thresholds

# Bump when the portfolio's templates or shaping change, so no cache serves the old page.
PORTFOLIO_CACHE_SECONDS = 60 * 60


def _code_fingerprint() -> str:
    """The code that shapes and renders the cached part: a deploy that changes it gets new
    cache keys, so Redis never serves HTML from the previous release."""
    root = Path(__file__).resolve().parent.parent
    parts = [
        *sorted((root / "changemaps" / "dashboards").glob("*.py")),
        *sorted((root / "changemaps" / "charts").glob("*.py")),
        *sorted((root / "templates" / "changemaps").glob("_*.html")),
        root / "changemaps" / "dashboard_selectors.py",
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes())
    return digest.hexdigest()[:12]


PORTFOLIO_CACHE_FORMAT = _code_fingerprint()


def _portfolio_cache_key(request, thresholds: Thresholds) -> str:
    """Who sees what (everyone who sees all accounts shares one), the query string (the
    filters, and the export buttons repeat it) and the rules' thresholds; the data's version
    is checked against the entry (see `selectors.portfolio_version`)."""
    scope = "all" if request.user.sees_all_accounts else f"user-{request.user.pk}"
    raw = f"{scope}|{request.GET.urlencode()}|{thresholds!r}"
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return f"changemaps:portfolio:{PORTFOLIO_CACHE_FORMAT}:{digest}"


def _portfolio_body(request, *, thresholds: Thresholds) -> tuple[dict, dict]:
    """The portfolio's charts and tables, rendered, with what the filter form offers: (the
    cache entry, the context it was rendered from, empty when it came from the cache).

    Cached per user scope and query string, and served while the data's version is the one
    the entry was built at. The version is read before the data, so a change made while the
    page is built only makes the next request build it again; the call list's names are
    fingerprinted from the very rows the page shows.
    """
    key = _portfolio_cache_key(request, thresholds)
    entry = cache.get(key)
    people = entry["people"] if entry else ()
    version = selectors.portfolio_version(user=request.user, people=people)
    if entry is not None and entry["version"] == version:
        return entry, {}
    accounts = selectors.portfolio_accounts(user=request.user)
    form = PortfolioFilterForm(request.GET or None, accounts=accounts)
    data = selectors.portfolio_data(
        user=request.user, accounts=accounts, filters=form.filters(), thresholds=thresholds
    )
    board = dashboards.portfolio_dashboard(data, thresholds=thresholds)
    context = {"shown": len(data.accounts), "total": len(accounts), **board.as_context()}
    entry = {
        # The last part of the version: the names of the people this page names.
        "version": (*version[:-1], selectors.people_fingerprint(data.people)),
        "people": sorted(int(pk) for pk in set(data.people["contact_id"])),
        # Our own template's output, escaped as it rendered: safe to insert as it is.
        "body": render_to_string("changemaps/_portfolio_body.html", context, request=request),
        "choices": {name: list(field.choices) for name, field in form.fields.items()},
        "shown": context["shown"],
        "total": context["total"],
    }
    cache.set(key, entry, PORTFOLIO_CACHE_SECONDS)
    return entry, {**context, "form": form}


@login_required
@require_GET
@vary_on_headers("HX-Request")
def portfolio(request):
    entry, built = _portfolio_body(request, thresholds=Thresholds.from_settings())
    body = mark_safe(entry["body"])  # noqa: S308 - rendered by our template, escaped there # nosec B308, B703
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(body)
    if built:
        form = built["form"]
    else:
        form = PortfolioFilterForm(request.GET or None, choices=entry["choices"])
    context = {
        **built,
        "form": form,
        "body": body,
        "shown": entry["shown"],
        "total": entry["total"],
        "nav": "portfolio",
        "categories": CATEGORIES,  # the legend, outside the cached part
    }
    return render(request, "changemaps/portfolio.html", context)


@login_required
@require_GET
def account_changemap(request, pk):
    account = account_get_for_user(user=request.user, pk=pk)
    data = selectors.account_dashboard_data(account=account)
    board = dashboards.account_dashboard(data, thresholds=Thresholds.from_settings())
    context = {
        "account": account,
        "account_tab": "changemap",
        "can_edit": account.can_edit(request.user),
        **board.as_context(),
    }
    return render(request, "changemaps/account_changemap.html", context)


def _group_page(request, *, dimension: str, pk: int):
    data = selectors.group_dashboard_data(user=request.user, dimension=dimension, key=pk)
    board = dashboards.group_dashboard(data, thresholds=Thresholds.from_settings())
    context = {
        "dimension": dimension,
        "name": data.title,
        "accounts": data.accounts,
        "nav": "portfolio",
        **board.as_context(),
    }
    return render(request, "changemaps/group_changemap.html", context)


@login_required
@require_GET
def territory_changemap(request, pk):
    return _group_page(request, dimension="territory", pk=pk)


@login_required
@require_GET
def segment_changemap(request, pk):
    return _group_page(request, dimension="segment", pk=pk)
