"""Referral and case-study candidates: marking positive words, recording consent, the list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from actions import selectors
from actions.forms import CandidateForm, ConsentForm
from actions.models import AdvocacyCandidate
from actions.services.candidates import candidate_mark, candidate_record_consent


@login_required
def candidates(request):
    kind = request.GET.get("kind", "")
    consent = request.GET.get("consent", "")
    kind = kind if kind in AdvocacyCandidate.Kind.values else ""
    consent = consent if consent in AdvocacyCandidate.Consent.values else ""
    context = {
        "candidates": selectors.candidates_for_user(user=request.user, kind=kind, consent=consent),
        "kind": kind,
        "consent": consent,
        "kinds": AdvocacyCandidate.Kind.choices,
        "consents": AdvocacyCandidate.Consent.choices,
        "consent_form": ConsentForm(),
        "nav": "candidates",
    }
    return render(request, "actions/candidates.html", context)


@login_required
@require_POST
def mark(request, pk):
    acknowledgement = selectors.acknowledgement_get_for_user(user=request.user, pk=pk)
    if not acknowledgement.account.can_contribute(request.user):
        raise PermissionDenied
    form = CandidateForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose referral or case study, and quote their words.")
        candidate_mark(response=acknowledgement.response, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Marked as a candidate. Record their consent before using it.")
    return redirect(acknowledgement)


@login_required
@require_POST
def consent(request, pk):
    candidate = selectors.candidate_get_for_user(user=request.user, pk=pk)
    if not candidate.account.can_contribute(request.user):
        raise PermissionDenied
    form = ConsentForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose what they said.")
        candidate_record_consent(
            candidate=candidate,
            by=request.user,
            consent=form.cleaned_data["consent"],
            note=form.cleaned_data["consent_note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Consent recorded for {candidate.contact.name}.")
    return redirect("actions:candidates")
