"""A person's privacy from the person page: their data as JSON (anyone who may see them, audited)
and erasure (administrators; others who may see them get 403, everyone else 404)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from contacts import privacy, selectors


class EraseForm(forms.Form):
    keep_scores = forms.TypedChoiceField(
        label="Their scores",
        choices=[
            ("yes", "Keep their scores (anonymous) so that trends and aggregates stay as they are"),
            ("no", "Delete their scores too; the change maps are recomputed without them"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone.",
        error_messages={"required": "Tick the box to confirm the erasure."},
    )


@login_required
@require_GET
def personal_data(request, pk):
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    data = privacy.contact_subject_access_export(
        contact=contact, actor=request.user, via="web", request=request
    )
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = (
        f'attachment; filename="rapport-contact-{contact.pk}-personal-data.json"'
    )
    response["Cache-Control"] = "no-store"  # personal data: never kept by a cache
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request, pk):
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    if not request.user.is_administrator:
        raise PermissionDenied
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        erasure = privacy.contact_erase(
            contact=contact,
            actor=request.user,
            keep_scores=form.cleaned_data["keep_scores"],
            request=request,
        )
        if erasure.already_erased:
            messages.info(request, "Nothing left to erase: this person was already erased.")
        else:
            messages.success(
                request, f"Personal data erased. They are now {privacy.erased_name(contact.pk)}."
            )
        return redirect("contacts:detail", pk=contact.pk)
    context = {
        "contact": contact,
        "account": contact.account,
        "form": form,
        "scope": privacy.contact_erasure_scope(contact=contact),
    }
    return render(
        request, "contacts/privacy_erase.html", context, status=400 if form.errors else 200
    )
