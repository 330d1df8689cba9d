"""Import people from a spreadsheet (upload → preview → confirm) and export them as CSV or XLSX.

The rules live in contacts/importing.py. Between preview and confirm the upload waits on disk
(core.uploads) under a random token kept in the session, and is validated again on confirm:
the account may have changed in between.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.models import Account
from accounts.selectors import account_get_for_user
from contacts import importing
from contacts.forms import ContactImportForm
from core import spreadsheets, uploads
from core.models import AuditEvent
from core.services.audit import audit_record

SESSION_KEY = "contacts_import"
UPLOAD_PURPOSE = "imports"
PREVIEW_ROWS = 200  # a 10,000-row preview would bury the page; the counts cover the rest


def _account_for_import(request, account_pk: int) -> Account:
    account = account_get_for_user(user=request.user, pk=account_pk)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    return account


def _discard_pending(request) -> None:
    """Forget an upload that was previewed but never confirmed."""
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        uploads.upload_discard(pending["token"], purpose=UPLOAD_PURPOSE)


def _take_pending(request, account: Account) -> tuple[str, bytes] | None:
    """The upload waiting for confirmation on this account, taken off disk and the session."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        return None
    data = uploads.upload_take(pending["token"], purpose=UPLOAD_PURPOSE)
    if data is None or pending["account"] != account.pk:
        return None
    return pending["filename"], data


def _render(request, account: Account, *, form, plan=None, status: int = 200):
    context = {
        "account": account,
        "account_tab": "people",
        "can_edit": account.can_edit(request.user),
        "form": form,
        "plan": plan,
        "preview_rows": plan.changed_rows[:PREVIEW_ROWS] if plan else [],
    }
    return render(request, "contacts/import.html", context, status=status)


@login_required
def import_people(request, account_pk):
    account = _account_for_import(request, account_pk)
    form = ContactImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return _render(request, account, form=form, status=400 if form.errors else 200)

    upload = form.cleaned_data["file"]
    data = upload.read()
    plan = importing.import_contacts(
        data, filename=upload.name, user=request.user, account=account, dry_run=True
    )
    _discard_pending(request)  # a new upload replaces one that was never confirmed
    if plan.is_valid and plan.has_changes:
        token = uploads.upload_keep(data, purpose=UPLOAD_PURPOSE)
        request.session[SESSION_KEY] = {
            "token": token,
            "filename": upload.name,
            "account": account.pk,
        }
    return _render(request, account, form=ContactImportForm(), plan=plan)


@login_required
@require_POST
def import_confirm(request, account_pk):
    account = _account_for_import(request, account_pk)
    pending = _take_pending(request, account)
    if pending is None:
        messages.error(
            request, "There is no import waiting for confirmation. Upload the file again."
        )
        return redirect("contacts:import", account_pk=account.pk)

    filename, data = pending
    plan = importing.import_contacts(data, filename=filename, user=request.user, account=account)
    if not plan.is_valid:
        # The people changed since the preview; show what is wrong now.
        return _render(request, account, form=ContactImportForm(), plan=plan, status=409)
    messages.success(
        request,
        f"Imported {filename}: {plan.created} added, {plan.updated} updated, "
        f"{plan.unchanged} unchanged.",
    )
    return redirect("contacts:people", account_pk=account.pk)


def _audit_export(request, account: Account, frame, fmt: str) -> None:
    audit_record(
        actor=request.user,
        verb=AuditEvent.Verb.EXPORTED,
        target_type="export",
        target_id=account.pk,
        target=f"People of {account.name}",
        detail={"export": "people", "format": fmt, "rows": len(frame)},
        request=request,
    )


@login_required
def export_people_csv(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    frame = importing.contacts_export_frame(account=account)
    _audit_export(request, account, frame, "csv")
    return spreadsheets.csv_response(frame, filename=f"{slugify(account.name)}-people.csv")


@login_required
def export_people_xlsx(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    frame = importing.contacts_export_frame(account=account)
    _audit_export(request, account, frame, "xlsx")
    return spreadsheets.xlsx_response(
        frame, filename=f"{slugify(account.name)}-people.xlsx", sheet_name="People"
    )
