"""Quotes: the account team's page, and the person's approval page reached by personal link.

`account_quotes` (the account's Quotes tab): answers that could be quoted, per side, with "Ask
to quote", and every quote with its approval state. `quote_propose` and `quote_request` are its
POSTs (team members, owner and administrators; others who may see the account get 403,
everyone else 404).

`quote_approval` (/q/<token>/) is the person's page, built like the survey pages: no login,
`Cache-Control: no-store`, `Referrer-Policy: same-origin`, rate-limited per client address
(sharing the survey pages' budget, so guessing tokens on either counts once), and the token is
redacted from logs by `core.logging.RedactLinkTokens`. An unknown or replaced link is a plain
404; an expired one a friendly page with HTTP 200 (expiry is expected, and a 4xx would make
Django log the path).
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import account_get_for_user
from pulses.views.survey import contact_page
from reports.forms import QuoteApprovalForm
from reports.models import Quote
from reports.selectors import quotes as selectors
from reports.services import quotes as services
from reports.services.quotes import QuoteLinkError

# --- The account team ----------------------------------------------------------------------------


@login_required
def account_quotes(request, pk):
    account = account_get_for_user(user=request.user, pk=pk)
    state = request.GET.get("state", "")
    state = state if state in Quote.Status.values else ""
    show_all = request.GET.get("all") == "1"
    limit = None if show_all else selectors.CANDIDATES_PER_SIDE
    context = {
        "account": account,
        "account_tab": "quotes",
        "can_contribute": account.can_contribute(request.user),
        "state": state,
        "states": Quote.Status.choices,
        "counts": selectors.quote_state_counts(account=account),
        "quotes": selectors.quotes_for_account(account=account, status=state),
        "candidates": selectors.quote_candidates(account=account, limit=limit),
        "show_all": show_all,
    }
    return render(request, "reports/account_quotes.html", context)


@login_required
@require_POST
def quote_propose(request, pk):
    answer = selectors.quote_candidate_get_for_user(user=request.user, pk=pk)
    account = answer.response.contact.account
    if not account.can_contribute(request.user):
        raise PermissionDenied
    try:
        quote = services.quote_propose(answer=answer, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reports:account_quotes", account.pk)
    _ask(request, quote)
    return redirect("reports:account_quotes", account.pk)


@login_required
@require_POST
def quote_request(request, pk):
    quote = selectors.quote_get_for_user(user=request.user, pk=pk)
    if not quote.contact.account.can_contribute(request.user):
        raise PermissionDenied
    _ask(request, quote)
    return redirect("reports:account_quotes", quote.contact.account_id)


def _ask(request, quote: Quote) -> None:
    """Email the approval link and say how it went."""
    earlier = quote.token_hash is not None
    try:
        services.quote_request_approval(quote=quote, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return
    note = " Earlier links no longer work." if earlier else ""
    messages.success(
        request, f"{quote.contact.name} was emailed a link to approve the quote.{note}"
    )


# --- The person's page -------------------------------------------------------------------------


@contact_page
@require_http_methods(["GET", "HEAD", "POST"])
def quote_approval(request, token):
    quote = Quote.from_token(token)
    if quote is None:
        return render(request, "reports/quote_not_found.html", status=404)
    context = _person_context(quote)
    if quote.status == Quote.Status.WITHDRAWN:
        return render(request, "reports/quote_withdrawn.html", context)
    if not quote.link_is_live:
        return render(request, "reports/quote_expired.html", context)
    form = QuoteApprovalForm(quote=quote)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "withdraw":
                services.quote_withdraw(quote=quote)
                return redirect(request.path)
            form = QuoteApprovalForm(request.POST, quote=quote)
            if form.is_valid():
                services.quote_approve(quote=quote, **form.cleaned_data)
                return redirect(f"{request.path}?approved=1")
        except QuoteLinkError:
            # Replaced, expired or withdrawn between showing the page and this click.
            return redirect(request.path)
        except ValidationError as error:
            form.add_error(None, error)
    elif quote.status == Quote.Status.APPROVED and request.GET.get("approved"):
        return render(request, "reports/quote_approved.html", context)
    return render(request, "reports/quote_approval.html", context | {"form": form})


def _person_context(quote: Quote) -> dict:
    contact = quote.contact
    signer = contact.owner or contact.account.owner
    zone = ZoneInfo(contact.time_zone or settings.TIME_ZONE)

    def day(moment):
        return timezone.localtime(moment, zone) if moment else None

    response = quote.answer.response
    return {
        "language": "en",
        "quote": quote,
        "contact": contact,
        "account": contact.account,
        "signer": signer,
        "question": quote.answer.question.text("en"),
        "answered_on": day(response.submitted_at),
        "expires_at": day(quote.link_expires_at),
        "decided_at": day(quote.decided_at),
        "credit_line": quote.credit_line,
        "is_edited": quote.text.strip() != quote.original_text.strip(),
    }
