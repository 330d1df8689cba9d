"""The change-map dashboards: the portfolio, an account's change map, a territory's, a segment's.

Each view gates (the account gate, 404 outside it), reads once through
`changemaps.dashboard_selectors`, shapes with the pure `changemaps.dashboards`, and renders.
The portfolio answers htmx requests with only its charts and tables, so filters apply without
a full page load.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.selectors import account_get_for_user
from changemaps import dashboard_selectors as selectors
from changemaps import dashboards
from changemaps.forms import PortfolioFilterForm
from changemaps.rules import Thresholds


@login_required
@require_GET
@vary_on_headers("HX-Request")
def portfolio(request):
    accounts = selectors.portfolio_accounts(user=request.user)
    form = PortfolioFilterForm(request.GET or None, accounts=accounts)
    data = selectors.portfolio_data(user=request.user, accounts=accounts, filters=form.filters())
    board = dashboards.portfolio_dashboard(data, thresholds=Thresholds.from_settings())
    context = {
        "form": form,
        "shown": len(data.accounts),
        "total": len(accounts),
        "nav": "portfolio",
        **board.as_context(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "changemaps/_portfolio_body.html", context)
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
