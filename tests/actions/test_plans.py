"""Account plans: long-term goals with objectives, progress, and overdue ones on the account."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import AccountPlan, PlanObjective
from actions.services.plans import objective_add, objective_progress, plan_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def plan(account, manager):
    return plan_create(
        account=account,
        by=manager,
        fields={
            "title": "Sole logistics partner in DACH",
            "horizon_years": 2,
            "starts_on": TODAY - timedelta(days=200),
        },
    )


def _objective(plan, owner, days, progress=0, title="Win the Munich warehouse tender"):
    return objective_add(
        plan=plan,
        fields={
            "title": title,
            "owner": owner,
            "target_date": TODAY + timedelta(days=days),
            "progress": progress,
        },
    )


def test_a_plan_spans_one_to_three_years(plan, account, manager):
    assert plan.ends_on == plan.starts_on.replace(year=plan.starts_on.year + 2)
    with pytest.raises(ValidationError):
        plan_create(account=account, by=manager, fields={"title": "x", "horizon_years": 5})
    with pytest.raises(IntegrityError):
        AccountPlan.objects.create(account=account, title="x", horizon_years=4)


def test_a_leap_day_plan_ends_on_the_28th():
    assert AccountPlan(starts_on=date(2028, 2, 29), horizon_years=1).ends_on == date(2029, 2, 28)


def test_objectives_belong_to_the_team_and_stay_within_the_plan(plan, teammate, outsider):
    objective = _objective(plan, teammate, 30)
    assert objective.plan == plan
    with pytest.raises(ValidationError, match="works on this account"):
        _objective(plan, outsider, 30)
    with pytest.raises(ValidationError, match="runs until"):
        _objective(plan, teammate, 2000)


def test_progress_is_a_percentage_and_the_plan_averages_it(plan, manager, teammate):
    first = _objective(plan, manager, 30)
    _objective(plan, teammate, 60, title="Quarterly executive reviews")
    objective_progress(objective=first, progress=100, notes="Signed.")
    with pytest.raises(ValidationError):
        objective_progress(objective=first, progress=120)
    plan = AccountPlan.objects.prefetch_related("objectives").get(pk=plan.pk)
    assert plan.progress == 50
    assert PlanObjective.objects.get(pk=first.pk).is_done


def test_overdue_objectives_show_on_the_account_page(client_for, manager, account, plan):
    late = _objective(plan, manager, 10, progress=40, title="Open the Vienna hub")
    _objective(plan, manager, 20, progress=100, title="Done already")
    PlanObjective.objects.filter(title="Done already").update(target_date=TODAY - timedelta(days=3))
    PlanObjective.objects.filter(pk=late.pk).update(target_date=TODAY - timedelta(days=3))

    page = client_for(manager).get(account.get_absolute_url())
    html = page.content.decode()
    assert "1 plan objective overdue" in html
    assert "Open the Vienna hub" in html
    assert "Done already" not in html


def test_no_banner_without_overdue_objectives(client_for, manager, account, plan):
    _objective(plan, manager, 10)
    assert "overdue" not in client_for(manager).get(account.get_absolute_url()).content.decode()


def test_the_plan_tab_creates_plans_and_objectives(client_for, manager, teammate, account):
    client = client_for(teammate)
    url = reverse("actions:plan", args=[account.pk])
    page = client.post(
        url,
        {"title": "Become their innovation partner", "horizon_years": 3, "starts_on": TODAY},
    )
    assert page.status_code == 302
    plan = AccountPlan.objects.get()
    add = reverse("actions:add_objective", args=[plan.pk])
    target = TODAY + timedelta(days=90)
    assert (
        client.post(
            add,
            {
                "title": "Joint roadmap workshop",
                "owner": manager.pk,
                "target_date": target,
                "progress": 0,
            },
        ).status_code
        == 302
    )
    objective = plan.objectives.get()
    client.post(
        reverse("actions:objective_progress", args=[objective.pk]),
        {"progress": 30, "notes": "Booked"},
    )
    page = client.get(url)
    assert "Joint roadmap workshop" in page.content.decode()
    assert PlanObjective.objects.get().progress == 30


def test_outsiders_get_404_and_executives_403_on_plans(
    client_for, outsider, executive, account, plan, manager
):
    objective = _objective(plan, manager, 10)
    urls = [
        reverse("actions:plan", args=[account.pk]),
        reverse("actions:add_objective", args=[plan.pk]),
        reverse("actions:objective_progress", args=[objective.pk]),
    ]
    for url in urls:
        assert client_for(outsider).post(url, {"title": "x", "progress": 1}).status_code == 404
        assert client_for(executive).post(url, {"title": "x", "progress": 1}).status_code == 403
    assert client_for(outsider).get(urls[0]).status_code == 404
    assert client_for(executive).get(urls[0]).status_code == 200


def test_the_plan_tab_costs_the_same_queries_for_few_or_many_objectives(
    client_for, manager, account, plan
):
    client = client_for(manager)
    url = reverse("actions:plan", args=[account.pk])
    _objective(plan, manager, 10)
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        return len(queries)

    few = count()
    second = plan_create(
        account=account, by=manager, fields={"title": "Second", "horizon_years": 1}
    )
    for n in range(5):
        _objective(plan, manager, 20 + n, title=f"Objective {n}")
        _objective(second, manager, 20 + n, title=f"Other {n}")
    assert count() == few
