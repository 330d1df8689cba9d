"""The owner's inbox of acknowledgements and the page to acknowledge one response."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from actions import selectors
from actions.forms import CandidateForm, InPersonForm, ReplyForm, ReviewForm
from actions.services.acknowledgements import (
    AlreadyAcknowledged,
    acknowledgement_in_person,
    acknowledgement_reply,
)
from actions.services.reviews import feedback_review_save


@login_required
def inbox(request):
    everyone = request.GET.get("show") == "all" or (
        request.user.sees_all_accounts and request.GET.get("show") != "mine"
    )
    context = selectors.inbox_for_user(user=request.user, everyone=everyone)
    return render(request, "actions/inbox.html", context | {"nav": "inbox", "everyone": everyone})


def _render_acknowledgement(
    request, acknowledgement, *, reply_form=None, in_person_form=None, review_form=None, status=200
):
    if reply_form is None:
        subject, body = selectors.reply_draft(acknowledgement=acknowledgement, writer=request.user)
        reply_form = ReplyForm(initial={"subject": subject, "body": body})
    detail = selectors.acknowledgement_detail(acknowledgement=acknowledgement)
    context = {
        "acknowledgement": acknowledgement,
        "account": acknowledgement.account,
        "can_acknowledge": acknowledgement.can_acknowledge(request.user),
        "can_contribute": acknowledgement.account.can_contribute(request.user),
        "reply_form": reply_form,
        "in_person_form": in_person_form or InPersonForm(),
        "review_form": review_form or ReviewForm(instance=detail["review"]),
        "candidate_form": CandidateForm(
            initial={
                "kind": "referral",
                "quote": acknowledgement.response.answer_for("keep_doing"),
            }
        ),
        "nav": "inbox",
        **detail,
    }
    return render(request, "actions/acknowledgement.html", context, status=status)


@login_required
def acknowledgement_page(request, pk):
    acknowledgement = selectors.acknowledgement_get_for_user(user=request.user, pk=pk)
    return _render_acknowledgement(request, acknowledgement)


def _acknowledge(request, pk, form_class, form_key, service):
    acknowledgement = selectors.acknowledgement_get_for_user(user=request.user, pk=pk)
    if not acknowledgement.can_acknowledge(request.user):
        raise PermissionDenied
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(acknowledgement=acknowledgement, by=request.user, **form.cleaned_data)
        except AlreadyAcknowledged as error:
            messages.info(request, str(error))
            return redirect(acknowledgement)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return None
    return _render_acknowledgement(request, acknowledgement, status=400, **{form_key: form})


@login_required
@require_POST
def reply(request, pk):
    failed = _acknowledge(request, pk, ReplyForm, "reply_form", acknowledgement_reply)
    if failed:
        return failed
    messages.success(request, "Your reply is on its way, and the response counts as acknowledged.")
    return redirect("actions:inbox")


@login_required
@require_POST
def in_person(request, pk):
    failed = _acknowledge(request, pk, InPersonForm, "in_person_form", acknowledgement_in_person)
    if failed:
        return failed
    messages.success(request, "Noted: acknowledged in person.")
    return redirect("actions:inbox")


@login_required
@require_POST
def review(request, pk):
    acknowledgement = selectors.acknowledgement_get_for_user(user=request.user, pk=pk)
    if not acknowledgement.account.can_contribute(request.user):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _render_acknowledgement(request, acknowledgement, review_form=form, status=400)
    feedback_review_save(
        account=acknowledgement.account,
        by=request.user,
        response=acknowledgement.response,
        fields=form.review_fields(),
    )
    messages.success(request, "Review saved. It is on the relationship story.")
    return redirect(acknowledgement)
