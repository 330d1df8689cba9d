from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.filters import AccountFilter
from accounts.forms import AccountForm, AccountLogEntryForm, ApiTokenForm

ACCOUNTS_PER_PAGE = 20


@login_required
def account_list(request):
    accounts = AccountFilter(
        request.GET, queryset=selectors.account_list_for_user(user=request.user), request=request
    )
    page = Paginator(accounts.qs, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/account_list.html",
        {"filter": accounts, "page": page, "query": query.urlencode()},
    )


def _render_account_page(request, account, *, log_form, status=200):
    context = {
        "account": account,
        "can_edit": account.can_edit(request.user),
        "can_contribute": account.can_contribute(request.user),
        "log_form": log_form,
        "account_tab": "overview",
        **selectors.account_detail_context(account=account),
    }
    return render(request, "accounts/account_detail.html", context, status=status)


@login_required
def account_detail(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk)
    return _render_account_page(request, account, log_form=AccountLogEntryForm(account=account))


@login_required
def account_create(request):
    if not request.user.is_administrator:
        raise PermissionDenied
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "team"}
        account = services.account_create(fields=fields, team=form.cleaned_data["team"])
        messages.success(request, f"Account “{account.name}” created.")
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form})


@login_required
def account_edit(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk)
    if not account.can_edit(request.user):
        raise PermissionDenied
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "team"}
        services.account_update(
            account=account,
            fields=fields,
            team=form.cleaned_data["team"],
            actor=request.user,
            request=request,
        )
        messages.success(request, "Changes saved.")
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_log_add(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = AccountLogEntryForm(request.POST, account=account)
    if form.is_valid():
        services.account_log_entry_create(account=account, author=request.user, **form.cleaned_data)
        messages.success(request, "Added to the account log.")
        return redirect(f"{account.get_absolute_url()}#log")
    return _render_account_page(request, account, log_form=form, status=400)


@login_required
@never_cache
def api_tokens(request):
    """Your personal API tokens: create one (shown this once), see when each was last used."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        created = {"token": token, "raw": raw}
        form = ApiTokenForm()
    context = {
        "form": form,
        "created": created,
        "tokens": selectors.api_tokens_for_user(user=request.user),
    }
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    if services.api_token_revoke(token=token):
        messages.success(request, f"“{token.name}” is revoked: it no longer works.")
    return redirect("accounts:api_tokens")
