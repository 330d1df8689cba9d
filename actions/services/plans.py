"""Account plans: one- to three-year goals per account, and the objectives that get there."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account, User
from actions.models import AccountPlan, PlanObjective


def _owner_on_account(account: Account, owner: User | None) -> None:
    if owner is None:
        return
    on_team = owner.pk == account.owner_id or account.memberships.filter(user=owner).exists()
    if not on_team:
        raise ValidationError({"owner": "Choose someone who works on this account."})


@transaction.atomic
def plan_create(*, account: Account, by: User, fields: dict) -> AccountPlan:
    """A long-term plan for `account` (title, description, horizon_years 1–3, starts_on)."""
    plan = AccountPlan(account=account, created_by=by, **fields)
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def objective_add(*, plan: AccountPlan, fields: dict) -> PlanObjective:
    """An objective of the plan, owned by someone on the account, due within the plan."""
    objective = PlanObjective(plan=plan, **fields)
    _owner_on_account(plan.account, objective.owner)
    objective.full_clean()
    if objective.target_date > plan.ends_on:
        raise ValidationError(
            {"target_date": f"The plan runs until {plan.ends_on:%d %b %Y}; aim within it."}
        )
    objective.save()
    return objective


def objective_progress(
    *, objective: PlanObjective, progress: int, notes: str = ""
) -> PlanObjective:
    """Record how far the objective has come (0–100 %), with a short note."""
    if not 0 <= progress <= 100:
        raise ValidationError({"progress": "Progress is a percentage from 0 to 100."})
    objective.progress, objective.notes = progress, notes.strip()
    objective.save(update_fields=["progress", "notes", "updated_at"])
    return objective
