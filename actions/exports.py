"""Exporting actions as CSV or XLSX: one row per action, scoped like the Actions tab.

The rows are what the user may see (`Action.objects.visible_to`), of one account or of every
account they may see, read in one query (counts as subqueries) and streamed as they are
written. Cells are neutralised by core.spreadsheets.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.db.models import Case, F, Func, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Account, User
from accounts.selectors import account_get_for_user
from actions.models import Action, ActionUpdate
from core.spreadsheets import (
    ExportRequestError,
    ExportRows,
    audited_export_response,
    export_filename,
    export_format,
)
from pulses.models import Response

COLUMNS = ["action_id", "account", "title", "status", "priority", "focus", "cycle_start",
           "owner", "due_on", "overdue", "raised_by", "raised_in_wave", "linked_responses",
           "updates", "you_said_we_did", "description", "done_at", "created_at",
           "updated_at"]  # fmt: skip
# What each row reads; `linked`, `logged` and `raiser` are annotations (see `_rows`).
FIELDS = ["pk", "account__name", "title", "status", "priority", "is_focus", "cycle_start",
          "owner__full_name", "owner__email", "due_on", "raiser", "source_wave__name", "linked",
          "logged", "you_said_we_did", "description", "done_at", "created_at",
          "updated_at"]  # fmt: skip
CHUNK = 2_000
STATUSES = dict(Action.Status.choices)
PRIORITIES = dict(Action.Priority.choices)
CLOSED = {Action.Status.DONE, Action.Status.WONT_DO}


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` (correlated through OuterRef) as a subquery, 0 when empty."""
    # COUNT as a plain function, not an aggregate: no GROUP BY, so always exactly one number.
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def _linked_responses() -> Case:
    """How many responses raised the action, as `actions.selectors` reads "raised by": its
    response; else the raising person's answer in its wave; else every answer from the account
    in its wave; none for an action raised from nothing."""
    in_wave = Response.objects.filter(wave_id=OuterRef("source_wave_id"))
    return Case(
        When(source_response__isnull=False, then=Value(1)),
        When(
            source_wave__isnull=False,
            source_contact__isnull=False,
            then=_count(in_wave.filter(contact_id=OuterRef("source_contact_id"))),
        ),
        When(
            source_wave__isnull=False,
            then=_count(in_wave.filter(contact__account_id=OuterRef("account_id"))),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _rows(actions: QuerySet[Action]) -> Iterator[tuple]:
    today = timezone.localdate()
    rows = (
        actions.annotate(
            linked=_linked_responses(),
            logged=_count(ActionUpdate.objects.filter(action_id=OuterRef("pk"))),
            raiser=Coalesce(F("source_contact__name"), F("source_response__contact__name")),
        )
        .order_by("account__name", "account_id", "-is_focus", "priority", "due_on", "pk")
        .values_list(*FIELDS)
    )
    for (pk, account, title, status, priority, focus, cycle_start, owner_name, owner_email,
         due_on, raiser, wave, linked, logged, said_did, description, done_at, created_at,
         updated_at) in rows.iterator(chunk_size=CHUNK):  # fmt: skip
        overdue = bool(due_on and status not in CLOSED and due_on < today)
        yield (
            pk, account, title, STATUSES.get(status, status), PRIORITIES.get(priority, priority),
            "yes" if focus else "no", cycle_start, owner_name or owner_email or "", due_on,
            "yes" if overdue else "no", raiser or "", wave or "", linked, logged, said_did,
            description, done_at, created_at, updated_at,
        )  # fmt: skip


def actions_export_rows(*, user: User, account: Account | None = None) -> ExportRows:
    """The actions `user` may see (of `account` when given; it must come from
    `account_get_for_user`), one row each: COLUMNS. Two queries whatever the number of rows."""
    actions = Action.objects.visible_to(user)
    if account is not None:
        actions = actions.filter(account=account)
    return ExportRows(header=list(COLUMNS), rows=_rows(actions), count=actions.count())


# --- Views ----------------------------------------------------------------------------------------


def _export(request, *, account: Account | None):
    try:
        kind = export_format(request.GET.get("format"))
    except ExportRequestError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    export = actions_export_rows(user=request.user, account=account)
    return audited_export_response(
        request,
        export=export,
        kind=kind,
        name="actions",
        target=f"Actions · {account.name if account else 'all accounts'}",
        target_id=account.pk if account else "",
        filters={"account": account.pk if account else None},
        filename=export_filename("actions", account.name if account else "all", extension=kind),
        sheet_name="Actions",
    )


@login_required
@require_GET
def export_account_actions(request, account_pk: int):
    """An account's actions (its Actions tab), `?format=csv|xlsx`."""
    return _export(request, account=account_get_for_user(user=request.user, pk=account_pk))


@login_required
@require_GET
def export_actions(request):
    """Every action the user may see, `?format=csv|xlsx`."""
    return _export(request, account=None)
