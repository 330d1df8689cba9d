"""People pages: the account's people table, the person page, edits, relationships, handover."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Account, User
from accounts.selectors import account_get_for_user
from contacts import selectors, services
from contacts.forms import ContactForm, HandoverForm, InfluenceLinkForm, LeaveForm, RelationshipForm
from contacts.models import BuyingRole, Contact, InfluenceLink
from core.models import AuditEvent
from core.services.audit import audit_record

PEOPLE_FILTERS = ("q", "role", "department", "owner", "status")


def _contact_for_editing(request, pk) -> Contact:
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    if not contact.account.can_contribute(request.user):
        raise PermissionDenied
    return contact


@login_required
def people_list(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    filters = {name: request.GET.get(name, "") for name in PEOPLE_FILTERS}
    context = {
        "account": account,
        "account_tab": "people",
        "contacts": selectors.contacts_for_account(account=account, filters=filters),
        "filters": filters,
        "roles": BuyingRole.objects.all(),
        "departments": selectors.departments_for_account(account=account),
        "owners": User.objects.filter(owned_contacts__account=account).distinct(),
        "statuses": Contact.Status.choices,
        "coverage": selectors.coverage_for_accounts(accounts=Account.objects.filter(pk=account.pk)),
        "can_contribute": account.can_contribute(request.user),
    }
    return render(request, "contacts/people_list.html", context)


@login_required
def contact_detail(request, pk):
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    can_contribute = contact.account.can_contribute(request.user)
    context = {
        "contact": contact,
        "account": contact.account,
        "can_contribute": can_contribute,
        "story": selectors.contact_story(contact=contact),
        "relationship_form": RelationshipForm(prefix="rel") if can_contribute else None,
        "link_form": InfluenceLinkForm(source=contact, prefix="link") if can_contribute else None,
        **selectors.contact_detail(contact=contact),
    }
    # Personal data: who looked at a person and their relationship story is on record.
    audit_record(
        actor=request.user,
        verb=AuditEvent.Verb.VIEWED,
        target_type="contact",
        target_id=contact.pk,
        target=f"{contact.name} ({contact.account.name})",
        detail={"page": "person and relationship story"},
        request=request,
    )
    return render(request, "contacts/contact_detail.html", context)


@login_required
def contact_create(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    if not account.can_contribute(request.user):
        raise PermissionDenied
    form = ContactForm(request.POST or None, account=account, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        contact = services.contact_create(
            account=account,
            fields=form.contact_fields(),
            roles=form.cleaned_data["buying_roles"],
            actor=request.user,
        )
        messages.success(request, f"{contact.name} added to {account.name}.")
        return redirect(contact)
    return render(request, "contacts/contact_form.html", {"form": form, "account": account})


@login_required
def contact_edit(request, pk):
    contact = _contact_for_editing(request, pk)
    form = ContactForm(request.POST or None, instance=contact, account=contact.account)
    if request.method == "POST" and form.is_valid():
        services.contact_update(
            contact=contact,
            fields=form.contact_fields(),
            roles=form.cleaned_data["buying_roles"],
            actor=request.user,
        )
        messages.success(request, "Changes saved.")
        return redirect(contact)
    context = {"form": form, "account": contact.account, "contact": contact}
    return render(request, "contacts/contact_form.html", context)


@login_required
def contact_leave(request, pk):
    contact = _contact_for_editing(request, pk)
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.contact_mark_left(
            contact=contact,
            actor=request.user,
            left_on=form.cleaned_data["left_on"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, f"{contact.name} is marked as having left. Their story is kept.")
        return redirect(contact)
    return render(request, "contacts/contact_leave.html", {"form": form, "contact": contact})


@login_required
@require_POST
def relationship_add(request, pk):
    contact = _contact_for_editing(request, pk)
    form = RelationshipForm(request.POST, prefix="rel")
    if form.is_valid():
        services.relationship_set(contact=contact, **form.cleaned_data)
        messages.success(request, "Relationship saved.")
    else:
        messages.error(request, _form_errors(form))
    return redirect(f"{contact.get_absolute_url()}#relationships")


@login_required
@require_POST
def link_add(request, pk):
    contact = _contact_for_editing(request, pk)
    form = InfluenceLinkForm(request.POST, source=contact, prefix="link")
    if form.is_valid():
        try:
            services.influence_link_create(source=contact, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Link added.")
    else:
        messages.error(request, _form_errors(form))
    return redirect(f"{contact.get_absolute_url()}#links")


@login_required
@require_POST
def link_delete(request, pk):
    visible = InfluenceLink.objects.filter(source__in=Contact.objects.visible_to(request.user))
    link = get_object_or_404(visible.select_related("source__account"), pk=pk)
    if not link.source.account.can_contribute(request.user):
        raise PermissionDenied
    link.delete()
    messages.success(request, "Link removed.")
    return redirect(f"{link.source.get_absolute_url()}#links")


@login_required
def coverage(request):
    accounts = Account.objects.visible_to(request.user)
    return render(
        request,
        "contacts/coverage.html",
        {"coverage": selectors.coverage_for_accounts(accounts=accounts), "nav": "coverage"},
    )


@login_required
def handover(request):
    if not request.user.is_administrator:
        raise PermissionDenied
    form = HandoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record = services.relationships_handover(
            from_user=form.cleaned_data["from_user"],
            to_user=form.cleaned_data["to_user"],
            performed_by=request.user,
            note=form.cleaned_data["note"],
        )
        messages.success(
            request,
            f"Handed over to {record.to_user}: {record.contacts_moved} contacts, "
            f"{record.relationships_moved} relationships, {record.accounts_moved} accounts, "
            f"{record.memberships_moved} team places.",
        )
        return redirect("contacts:handover")
    return render(
        request,
        "contacts/handover.html",
        {"form": form, "handovers": selectors.recent_handovers(), "nav": "handover"},
    )


def _form_errors(form) -> str:
    return " ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".strip(": ")
        for f, e in form.errors.items()
    )
