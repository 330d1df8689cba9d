"""Exporting responses as CSV or XLSX: one row per response, every question a column.

What a user may export is what they may see: responses of the accounts `Account.objects.
visible_to(user)` lets through, narrowed like the page the download starts from (one account's
Pulses tab, optionally one wave; or everything). The rows stream from two ordered queries
(responses, and their answers in the same order) merged as they are written, so 50,000 responses
take the same handful of queries and little memory. Cells are neutralised by core.spreadsheets.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from accounts.models import Account, User
from accounts.selectors import account_get_for_user
from contacts.models import Contact
from core.spreadsheets import (
    ExportRequestError,
    ExportRows,
    audited_export_response,
    export_filename,
    export_format,
)
from pulses.models import Answer, Question, QuestionnaireVersion, Response, Wave
from pulses.selectors import waves_visible_to

COLUMNS = ["account", "contact", "email", "job_title", "roles", "wave", "wave_opens_on",
           "submitted_at", "source", "recorded_by", "language", "score"]  # fmt: skip
# Both queries sort by these (answers through `response__`), ending in a unique key, so the
# answers arrive in exactly the order of their responses and can be merged in one pass.
ORDER = ["contact__account__name", "contact__account_id", "-wave__opens_on", "wave_id",
         "contact__name", "pk"]  # fmt: skip
CHUNK = 2_000
SOURCES = dict(Response.Source.choices)


def _through_response(field: str) -> str:
    descending, name = field.startswith("-"), field.lstrip("-")
    name = "response_id" if name == "pk" else f"response__{name}"
    return f"-{name}" if descending else name


def _question_columns(responses: QuerySet[Response]) -> tuple[list[str], dict[str, dict]]:
    """Question keys in questionnaire order (a key shared by versions is one column), and the
    English label of every single-choice value by key."""
    waves = Wave.objects.filter(pk__in=responses.values("wave_id"))
    questions = (
        Question.objects.filter(version__in=QuestionnaireVersion.objects.filter(waves__in=waves))
        .order_by("position", "key")
        .values_list("key", "choices")
    )
    keys: list[str] = []
    labels: dict[str, dict] = {}
    for key, choices in questions:
        if key not in labels:
            keys.append(key)
            labels[key] = {}
        for choice in choices or []:
            label = choice.get("label", {})
            labels[key][choice["value"]] = label.get("en") or choice["value"]
    return keys, labels


def _roles(responses: QuerySet[Response]) -> dict[int, str]:
    rows = (
        Contact.buying_roles.through.objects.filter(contact_id__in=responses.values("contact_id"))
        .order_by("contact_id", "buyingrole__position")
        .values_list("contact_id", "buyingrole__label")
    )
    roles: dict[int, list[str]] = {}
    for contact_id, label in rows.iterator(chunk_size=CHUNK):
        roles.setdefault(contact_id, []).append(label)
    return {contact_id: "; ".join(labels) for contact_id, labels in roles.items()}


def _rows(responses: QuerySet[Response], *, keys: list[str], labels: dict) -> Iterator[tuple]:
    roles = _roles(responses)
    answers = (
        Answer.objects.filter(response__in=responses.values("pk"))
        .order_by(*(_through_response(field) for field in ORDER))
        .values_list("response_id", "question__key", "number", "text", "choice")
        .iterator(chunk_size=CHUNK)
    )
    pending = next(answers, None)
    rows = responses.order_by(*ORDER).values_list(
        "pk", "contact_id", "contact__account__name", "contact__name", "contact__email",
        "contact__job_title", "wave__name", "wave__opens_on", "submitted_at", "source",
        "recorded_by__full_name", "recorded_by__email", "language", "score",
    )  # fmt: skip
    for (pk, contact_id, account, name, email, title, wave, opens_on, submitted_at, source,
         recorder_name, recorder_email, language, score) in rows.iterator(chunk_size=CHUNK):  # fmt: skip
        said: dict[str, object] = {}
        while pending is not None and pending[0] == pk:
            _, key, number, text, choice = pending
            if number is not None:
                said[key] = number
            elif choice:
                said[key] = labels.get(key, {}).get(choice, choice)
            else:
                said[key] = text
            pending = next(answers, None)
        yield (
            account, name, email, title, roles.get(contact_id, ""), wave, opens_on, submitted_at,
            SOURCES.get(source, source), recorder_name or recorder_email or "", language, score,
            *(said.get(key) for key in keys),
        )  # fmt: skip


def responses_export_rows(
    *, user: User, account: Account | None = None, wave: Wave | None = None
) -> ExportRows:
    """The responses `user` may see (of `account`, of `wave`, when given), one row each.

    Columns: COLUMNS, then one per question key of the questionnaires the waves used (a
    question's number, its choice's English label, or the person's own words). `account` must
    come from `account_get_for_user`. Six queries whatever the number of rows.
    """
    responses = Response.objects.visible_to(user)
    if account is not None:
        responses = responses.filter(contact__account=account)
    if wave is not None:
        responses = responses.filter(wave=wave)
    keys, labels = _question_columns(responses)
    header = COLUMNS + [f"q_{key}" if key in COLUMNS else key for key in keys]
    return ExportRows(
        header=header,
        rows=_rows(responses, keys=keys, labels=labels),
        count=responses.count(),
    )


# --- Views ----------------------------------------------------------------------------------------


def _wave(request) -> Wave | None:
    value = request.GET.get("wave", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ExportRequestError("wave must be a wave's number, e.g. wave=12.")
    return get_object_or_404(waves_visible_to(user=request.user), pk=int(value))


def _export(request, *, account: Account | None):
    try:
        kind = export_format(request.GET.get("format"))
        wave = _wave(request)
    except ExportRequestError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    export = responses_export_rows(user=request.user, account=account, wave=wave)
    scope = account.name if account else "all accounts"
    return audited_export_response(
        request,
        export=export,
        kind=kind,
        name="responses",
        target=f"Responses · {scope}" + (f" · {wave.name}" if wave else ""),
        target_id=account.pk if account else "",
        filters={"account": account.pk if account else None, "wave": wave.pk if wave else None},
        filename=export_filename(
            "responses",
            account.name if account else "all",
            wave.name if wave else "",
            extension=kind,
        ),
        sheet_name="Responses",
    )


@login_required
@require_GET
def export_account_responses(request, account_pk: int):
    """An account's responses (its Pulses tab), `?wave=` to narrow, `?format=csv|xlsx`."""
    return _export(request, account=account_get_for_user(user=request.user, pk=account_pk))


@login_required
@require_GET
def export_responses(request):
    """Every response the user may see, `?wave=` to narrow, `?format=csv|xlsx`."""
    return _export(request, account=None)
