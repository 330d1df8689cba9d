"""Account plans: the Plan tab, adding objectives and recording their progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.selectors import account_get_for_user
from actions import selectors
from actions.forms import ObjectiveForm, PlanForm, ProgressForm
from actions.services.plans import objective_add, objective_progress, plan_create
from actions.views.actions import show_errors


def _render(request, account, *, plan_form=None, objective_form=None, failed_plan=None):
    context = {
        "account": account,
        "account_tab": "plan",
        "can_contribute": account.can_contribute(request.user),
        "plans": selectors.account_plans(account=account),
        "plan_form": plan_form or PlanForm(),
        "objective_form": objective_form or ObjectiveForm(account=account),
        "failed_plan": failed_plan,
        "today": timezone.localdate(),
    }
    failed = (plan_form and plan_form.errors) or (objective_form and objective_form.errors)
    return render(request, "actions/account_plan.html", context, status=400 if failed else 200)


@login_required
def account_plan(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    if request.method != "POST":
        return _render(request, account)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = plan_create(account=account, by=request.user, fields=form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Plan “{plan.title}” added. Now give it objectives.")
            return redirect("actions:plan", account_pk=account.pk)
    return _render(request, account, plan_form=form)


@login_required
@require_POST
def add_objective(request, pk):
    plan = selectors.plan_get_for_user(user=request.user, pk=pk)
    account = plan.account
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = ObjectiveForm(request.POST, account=account)
    if form.is_valid():
        try:
            objective_add(plan=plan, fields=form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Objective added.")
            return redirect("actions:plan", account_pk=account.pk)
    return _render(request, account, objective_form=form, failed_plan=plan.pk)


@login_required
@require_POST
def update_progress(request, pk):
    objective = selectors.objective_get_for_user(user=request.user, pk=pk)
    account = objective.plan.account
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = ProgressForm(request.POST)
    if form.is_valid():
        objective_progress(objective=objective, **form.cleaned_data)
        messages.success(request, f"Progress on “{objective.title}” saved.")
    else:
        messages.error(request, "Progress is a percentage from 0 to 100.")
    return redirect("actions:plan", account_pk=account.pk)
