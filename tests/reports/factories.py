"""Quote factories: answers to quote, and quotes in each state with a working link."""

from datetime import timedelta

from django.utils import timezone

from pulses.models import Answer, Response
from reports.models import Quote
from tests.pulses.factories import GOOD_ANSWERS, WaveFactory, response_with_answers


def answered(*, contact, wave=None, **answers) -> Response:
    """`contact` answered `wave` (a new open wave by default): GOOD_ANSWERS with overrides."""
    return response_with_answers(
        wave=wave or WaveFactory(), contact=contact, answers=GOOD_ANSWERS | answers
    )


def answer_of(response: Response, key: str) -> Answer:
    return response.answers.get(question__key=key)


def quote_for(
    *, contact, key: str = "keep_doing", status=Quote.Status.PROPOSED, wave=None, **fields
):
    """A quote of `contact`'s `key` answer (a fresh response), in `status`.

    Requested and approved quotes get a live link: `quote.token` holds it.
    """
    answer = answer_of(answered(contact=contact, wave=wave), key)
    quote = Quote(
        answer=answer,
        contact=contact,
        side=answer.question.purpose,
        original_text=answer.text,
        text=fields.pop("text", answer.text),
        status=status,
        **fields,
    )
    quote.token = None
    if status != Quote.Status.PROPOSED:
        quote.token = quote.issue_token()
        quote.requested_at = timezone.now() - timedelta(days=1)
    if status in {Quote.Status.APPROVED, Quote.Status.WITHDRAWN}:
        quote.decided_at = timezone.now()
    quote.save()
    return quote
