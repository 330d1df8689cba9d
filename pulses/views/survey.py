"""The contact's own pages, reached from the email by a personal token: no login, no staff chrome.

`survey`: answer the pulse, come back through the same link and change the answers until the
wave closes (HTTP 200 with a "closed, thank you" page afterwards: closing is expected, not an
error, and a 4xx status would make Django log the path and with it the token).
`unsubscribe`: GET only shows a button; POST unsubscribes. The same URL takes the RFC 8058
one-click POST (body `List-Unsubscribe=One-Click`, no cookies, no CSRF token) that mail clients
send for the `List-Unsubscribe` header; any other POST must pass the CSRF check.

Every response is `Cache-Control: no-store` and `Referrer-Policy: same-origin`, and each client
address is rate-limited (RATES). The token is part of the path; nothing here logs it, and
`core.logging.RedactLinkTokens` keeps it out of request and access logs.
"""

import functools
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from actions.selectors import you_said_we_did_for_invitation
from pulses.forms import SurveyForm, survey_wording
from pulses.models import DEFAULT_LANGUAGE, Invitation, Response
from pulses.services.responses import (
    WaveClosed,
    contact_unsubscribe,
    invitation_mark_opened,
    previous_feedback,
    response_saved_answers,
    response_submit,
)

# Requests per client address and minute, over both pages. Mail providers send one-click
# unsubscribes from shared servers, so those get more room than a person's own POSTs.
RATES = {"GET": "30/m", "POST": "10/m", "ONE_CLICK": "120/m"}
RATE_GROUP = "pulses.survey_pages"
ONE_CLICK_BODY = {"List-Unsubscribe": ["One-Click"]}
DATE_FORMAT = "j F Y"


def _rate(group, request):
    if request.method == "POST":
        return RATES["ONE_CLICK"] if _is_one_click(request) else RATES["POST"]
    return RATES["GET"]


def _is_one_click(request) -> bool:
    return request.method == "POST" and dict(request.POST.lists()) == ONE_CLICK_BODY


def contact_page(view):
    """No-store, same-origin referrers and a per-address rate limit (429 over it)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        limited = is_ratelimited(
            request,
            group=RATE_GROUP,
            key="ip",
            rate=_rate,
            method=is_ratelimited.ALL,
            increment=True,
        )
        if limited:
            response = render(request, "pulses/survey_rate_limited.html", status=429)
            response["Retry-After"] = "60"
        else:
            response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    return never_cache(wrapped)


@contact_page
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request, token):
    invitation = Invitation.from_token(token)
    if invitation is None:
        return _not_found(request)
    language = _page_language(invitation)
    with translation.override(language):
        wave = invitation.wave
        if not wave.is_open:
            return render(request, "pulses/survey_closed.html", _page_context(invitation, language))
        version = wave.questionnaire_version
        if request.method == "POST":
            # Shared by the form and response_submit's checks (a frozen version's: no query).
            version.prefetch_questions()
            form = SurveyForm(request.POST, version=version, language=language)
            if form.is_valid():
                try:
                    response_submit(
                        invitation=invitation,
                        answers=form.answers(),
                        language=language,
                        wave_is_current=True,  # loaded with the invitation, just now
                    )
                except WaveClosed:
                    context = _page_context(invitation, language)
                    return render(request, "pulses/survey_closed.html", context)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    # The page's words are only needed when it is shown: not for the redirect.
                    return redirect(f"{request.path}?sent=1")
            context = _page_context(invitation, language)
        else:
            invitation_mark_opened(invitation=invitation)
            context = _page_context(invitation, language)
            response = context["response"]
            if response is not None and request.GET.get("sent"):
                return render(request, "pulses/survey_thanks.html", context)
            saved = response_saved_answers(response=response)
            version.prefetch_questions()
            form = SurveyForm(version=version, language=language, initial_answers=saved)
        mirror = previous_feedback(contact=invitation.contact, before=wave)
        context |= {"form": form, "mirror": mirror, "mirror_intro": _mirror_intro(mirror, context)}
        context["since_last_pulse"] = you_said_we_did_for_invitation(invitation)
        return render(request, "pulses/survey.html", context)


@csrf_exempt  # only for the RFC 8058 one-click body: every other POST is checked below
@contact_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    invitation = Invitation.from_token(token)
    if invitation is None:
        return _not_found(request)
    if request.method == "POST":
        one_click = _is_one_click(request)
        if not one_click and (rejection := _csrf_rejection(request)):
            return rejection
        contact_unsubscribe(invitation=invitation, method="one_click" if one_click else "link")
        if not one_click:
            return redirect(request.path)
    language = _page_language(invitation)
    with translation.override(language):
        context = _page_context(invitation, language)
        return render(request, "pulses/unsubscribe.html", context)


# --- Helpers ------------------------------------------------------------------------------------


def _not_found(request):
    return render(request, "pulses/survey_not_found.html", status=404)


def _csrf_rejection(request):
    """The CSRF middleware's answer for this request: None when it passes, else its 403."""
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})


def _page_language(invitation: Invitation) -> str:
    """The contact's language when every question speaks it, else English: one language a page."""
    preferred = invitation.contact.preferred_language
    if preferred == DEFAULT_LANGUAGE:
        return preferred
    version = invitation.wave.questionnaire_version
    version.prefetch_questions()  # the form reads them again
    questions = version.questions.all()
    return preferred if all(preferred in q.prompt for q in questions) else DEFAULT_LANGUAGE


def _page_context(invitation: Invitation, language: str) -> dict:
    """Everything the contact's pages say, worded in `language` with names escaped."""
    words = survey_wording(language)
    contact, wave = invitation.contact, invitation.wave
    signer = invitation.signer or contact.owner
    response = Response.objects.filter(wave=wave, contact=contact).first()
    zone = ZoneInfo(contact.time_zone or settings.TIME_ZONE)

    def day(moment):
        return date_format(timezone.localtime(moment, zone), DATE_FORMAT)

    def say(key, **values):
        bold = {name: format_html("<strong>{}</strong>", value) for name, value in values.items()}
        return format_html(words[key], **bold)

    def by_signer(key, **values):
        if signer is None:
            return words[f"{key}_team"]
        return say(f"{key}_signer", signer=signer.get_full_name(), **values)

    closes = day(wave.closes_at)
    closed_on = day(min(wave.closed_at or wave.closes_at, wave.closes_at))
    return {
        "language": language,
        "words": words,
        "contact": contact,
        "response": response,
        "unsubscribed": contact.pulse_consent == contact.Consent.OPTED_OUT,
        "unsubscribe_url": reverse("pulses:unsubscribe", args=[invitation.link_token()]),
        "survey_url": reverse("pulses:survey", args=[invitation.link_token()]),
        "hello": format_html(words["hello"], name=contact.name),
        "intro": (
            say("intro_signer", signer=signer.get_full_name(), account=contact.account.name)
            if signer
            else say("intro_team", account=contact.account.name)
        ),
        "status_note": (
            format_html(words["answered_on"], date=day(response.submitted_at), closes=closes)
            if response
            else format_html(words["open_until"], closes=closes)
        ),
        "not_anonymous": format_html(words["not_anonymous"], account=contact.account.name),
        "thanks_title": format_html(words["thanks_title"], name=contact.name),
        "thanks_body": by_signer("thanks"),
        "thanks_edit": format_html(words["thanks_edit"], closes=closes),
        "closed_body": format_html(words["closed_body"], date=closed_on),
        "closed_contact": by_signer("closed"),
        "unsubscribed_body": by_signer("unsubscribed"),
    }


def _mirror_intro(mirror: dict | None, context: dict) -> str:
    if mirror is None:
        return ""
    return format_html(
        context["words"]["mirror_intro"], month=date_format(mirror["opens_on"], "F Y")
    )
