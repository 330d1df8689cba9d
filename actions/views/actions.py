"""An account's actions (the Actions tab) and one action with its log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import account_get_for_user
from actions import selectors
from actions.forms import ActionForm, WaveReviewForm
from actions.services.actions import action_create, action_update
from actions.services.reviews import feedback_review_save
from actions.services.summaries import summary_send


def show_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its fields where they are shown."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _initial(request, account) -> dict:
    """A new action prefilled from the response it answers (`?response=<id>`)."""
    pk = request.GET.get("response", "")
    response = selectors.response_for_action(account=account, pk=int(pk)) if pk.isdigit() else None
    if response is None:
        return {}
    return {
        "source_response": response.pk,
        "source_contact": response.contact_id,
        "source_wave": response.wave_id,
        "title": selectors.action_title_from(response),
    }


def _render_tab(request, account, *, form, review_form=None):
    context = {
        "account": account,
        "account_tab": "actions",
        "can_contribute": account.can_contribute(request.user),
        "form": form,
        "review_form": review_form or WaveReviewForm(account=account),
        "show_form": form.is_bound or "response" in request.GET,
        **selectors.account_actions(account=account),
    }
    status = 400 if form.errors or (review_form and review_form.errors) else 200
    return render(request, "actions/account_actions.html", context, status=status)


@login_required
def account_actions(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    can_contribute = account.can_contribute(request.user)
    if request.method == "POST":
        if not can_contribute:
            raise PermissionDenied
        form = ActionForm(request.POST, account=account)
        if form.is_valid():
            try:
                action = action_create(account=account, by=request.user, fields=form.changes())
            except ValidationError as error:
                show_errors(form, error)
            else:
                messages.success(request, f"Action “{action.title}” added.")
                return redirect("actions:account", account_pk=account.pk)
    else:
        form = ActionForm(account=account, initial=_initial(request, account))
    return _render_tab(request, account, form=form)


@login_required
@require_POST
def review_wave(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = WaveReviewForm(request.POST, account=account)
    if not form.is_valid():
        return _render_tab(request, account, form=ActionForm(account=account), review_form=form)
    feedback_review_save(
        account=account,
        by=request.user,
        wave=form.cleaned_data["wave"],
        fields=form.review_fields(),
    )
    messages.success(request, f"Review of the {form.cleaned_data['wave'].name} saved.")
    return redirect("actions:account", account_pk=account.pk)


@login_required
def action_page(request, pk):
    action = selectors.action_get_for_user(user=request.user, pk=pk)
    can_contribute = action.account.can_contribute(request.user)
    if request.method == "POST":
        if not can_contribute:
            raise PermissionDenied
        # The form validates a copy, so the service still sees the action as it was.
        copy = selectors.action_get_for_user(user=request.user, pk=pk)
        form = ActionForm(request.POST, instance=copy, account=action.account)
        if form.is_valid():
            try:
                action_update(
                    action=action,
                    by=request.user,
                    fields=form.changes(),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                show_errors(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect(action)
    else:
        form = ActionForm(instance=action, account=action.account)
    context = {
        "account": action.account,
        "action": action,
        "account_tab": "actions",
        "can_contribute": can_contribute,
        "form": form,
        **selectors.action_detail(action=action),
    }
    return render(request, "actions/action.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def send_summary(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    try:
        mailing = summary_send(account=account, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        count = mailing.emails.count()
        messages.success(
            request, f"“You said, we did” is on its way to {count} participant{'s' * (count != 1)}."
        )
    return redirect("actions:account", account_pk=account.pk)
