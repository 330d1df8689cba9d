"""Reads for quotes: what a user may see, what could be quoted, and what a report may show.

Everything starts from `Account.objects.visible_to(user)` (through `Quote.objects.visible_to`)
or from an account the caller already checked.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse

from accounts.models import Account, User
from contacts.models import Contact
from contacts.selectors import StoryEvent
from pulses.models import Answer, Question, Wave
from reports.models import Quote, ReportJob

QUOTABLE_PURPOSES = (Question.Purpose.KEEP_DOING, Question.Purpose.IMPROVE)
# Shown on the team's page; older answers are reached through the "all" link.
CANDIDATES_PER_SIDE = 20
UNPROPOSED = "unproposed"


def quotes_for_user(*, user: User) -> QuerySet[Quote]:
    """Every quote on the accounts `user` may see, with what lists show."""
    return Quote.objects.visible_to(user).select_related(
        "contact", "contact__account", "answer__response__wave", "requested_by"
    )


def quote_get_for_user(*, user: User, pk: int) -> Quote:
    """The quote if its account is visible to `user`; 404 otherwise."""
    return get_object_or_404(quotes_for_user(user=user), pk=pk)


def quotes_for_account(*, account: Account, status: str = "") -> QuerySet[Quote]:
    """The quotes of one (already visibility-checked) account, newest first, optionally in one
    state."""
    quotes = Quote.objects.filter(contact__account=account).select_related(
        "contact", "answer__response__wave", "requested_by"
    )
    if status:
        quotes = quotes.filter(status=status)
    return quotes.order_by("-updated_at", "-pk")


def quote_state_counts(*, account: Account) -> dict[str, int]:
    """How many of the account's quotes are in each state (every state present)."""
    counts = dict.fromkeys(Quote.Status.values, 0)
    for status in Quote.objects.filter(contact__account=account).values_list("status", flat=True):
        counts[status] += 1
    return counts


def _quotable_answers() -> QuerySet[Answer]:
    return (
        Answer.objects.filter(
            question__kind=Question.Kind.OPEN_TEXT,
            question__purpose__in=QUOTABLE_PURPOSES,
            quote__isnull=True,
        )
        .exclude(text="")
        .select_related("question", "response__wave", "response__contact")
        .order_by("-response__submitted_at", "question__position", "pk")
    )


@dataclass(frozen=True)
class CandidateSide:
    side: str
    label: str
    answers: list[Answer]
    total: int


def quote_candidates(*, account: Account, limit: int | None = CANDIDATES_PER_SIDE) -> list:
    """Open answers of the account's people that could be quoted, one `CandidateSide` per side
    (goes well first): "what goes well" and "what to improve" answers not yet proposed, newest
    first, at most `limit` each, from people who have not left (they could not approve)."""
    answers = (
        _quotable_answers()
        .filter(response__contact__account=account)
        .exclude(response__contact__status=Contact.Status.LEFT)
    )
    sides = []
    for side, label in Quote.Side.choices:
        of_side = answers.filter(question__purpose=side)
        shown = list(of_side[:limit] if limit else of_side)
        total = of_side.count() if limit and len(shown) == limit else len(shown)
        sides.append(CandidateSide(side=side, label=label, answers=shown, total=total))
    return sides


def quote_candidate_get_for_user(*, user: User, pk: int) -> Answer:
    """An answer `user` may propose as a quote: on a visible account; 404 otherwise."""
    return get_object_or_404(
        Answer.objects.filter(
            response__contact__account__in=Account.objects.visible_to(user)
        ).select_related("question", "response__contact__account"),
        pk=pk,
    )


# --- Reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuote:
    """One quote (or, internally, one answer not proposed yet) as a report shows it.

    Client-facing rows carry only `text` (the approved wording), `credit_line` and `side`; the
    other fields are for internal reports.
    """

    side: str
    text: str
    credit_line: str
    state: str = Quote.Status.APPROVED  # a Quote.Status value, or UNPROPOSED
    state_label: str = ""
    original_text: str = ""  # what they wrote, when the wording was edited
    contact_name: str = ""
    contact_id: int | None = None
    wave_name: str = ""
    answered_at: datetime | None = None

    @property
    def status(self) -> str:  # so templates/reports/_quote_state.html can show it
        return self.state

    def get_status_display(self) -> str:
        return self.state_label

    @property
    def is_edited(self) -> bool:
        return bool(self.original_text) and self.original_text.strip() != self.text.strip()


def report_quote(quote: Quote, *, internal: bool) -> ReportQuote:
    """One quote as a report prints it (client: wording and credit only)."""
    if not internal:
        return ReportQuote(side=quote.side, text=quote.text, credit_line=quote.credit_line)
    response = quote.answer.response
    return ReportQuote(
        side=quote.side,
        text=quote.text,
        credit_line=quote.credit_line,
        state=quote.status,
        state_label=quote.get_status_display(),
        original_text=quote.original_text,
        contact_name=quote.contact.name,
        contact_id=quote.contact_id,
        wave_name=response.wave.name,
        answered_at=response.submitted_at,
    )


def _latest_waves(account: Account, count: int) -> list[int]:
    """The `count` most recent waves (by opening date) in which someone at `account` answered."""
    waves = (
        Wave.objects.filter(responses__contact__account=account)
        .order_by("-opens_on", "-pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    return list(waves[:count])


def quotes_for_report(
    *, account: Account, audience: str, latest_waves: int = 1
) -> dict[str, list[ReportQuote]]:
    """What a report on `account` may quote, per side: `{"keep_doing": [...], "improve": [...]}`
    (both keys always present; goes well first), newest answers first.

    - `audience="client"`: only approved quotes, in the wording the person approved, with the
      credit they chose. Nothing else: the person's consent is the gate.
    - `audience="internal"`: every quote in any state (with its state and, when reworded, the
      original words), then the answers of the account's `latest_waves` most recent waves that
      nobody proposed yet (state "unproposed", credited by name and role).

    The caller checks that the reader may see `account`.
    """
    if audience not in ReportJob.Audience.values:
        raise ValueError(f"Unknown report audience: {audience!r}.")
    internal = audience == ReportJob.Audience.INTERNAL
    quotes = Quote.objects.filter(contact__account=account).select_related(
        "contact", "answer__response__wave"
    )
    if not internal:
        quotes = quotes.approved()
    quotes = quotes.order_by("-answer__response__submitted_at", "-pk")
    result: dict[str, list[ReportQuote]] = {side: [] for side in Quote.Side.values}
    for quote in quotes:
        result[quote.side].append(report_quote(quote, internal=internal))
    if internal:
        answers = _quotable_answers().filter(
            response__contact__account=account,
            response__wave__in=_latest_waves(account, latest_waves),
        )
        for answer in answers:
            response, contact = answer.response, answer.response.contact
            result[answer.question.purpose].append(
                ReportQuote(
                    side=answer.question.purpose,
                    text=answer.text,
                    credit_line=Quote(contact=contact).credit_line,
                    state=UNPROPOSED,
                    state_label="Not proposed",
                    contact_name=contact.name,
                    contact_id=contact.pk,
                    wave_name=response.wave.name,
                    answered_at=response.submitted_at,
                )
            )
    return result


# --- The relationship story ----------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteStoryEvent(StoryEvent):
    """A story moment about a quote; `quote` lets the story show its approval state."""

    quote: Quote | None = None


STORY_TITLES = {
    Quote.Status.PROPOSED: "Their words were proposed as a quote",
    Quote.Status.REQUESTED: "Asked to approve a quote",
    Quote.Status.APPROVED: "Approved a quote for client reports",
    Quote.Status.WITHDRAWN: "Withdrew a quote",
}


def quote_story_events(contact: Contact) -> list[StoryEvent]:
    """One moment per quote of the person, at its latest step, with its current state."""
    events = []
    for quote in contact.quotes.select_related("requested_by"):
        at = quote.decided_at or quote.requested_at or quote.created_at
        label = Quote.Side(quote.side).label
        actor = ""
        if quote.status in {Quote.Status.PROPOSED, Quote.Status.REQUESTED} and quote.requested_by:
            actor = f"by {quote.requested_by}"
        words = ((label, quote.text),)
        if quote.text.strip() != quote.original_text.strip():
            words += (("Originally", quote.original_text),)
        events.append(
            QuoteStoryEvent(
                at,
                f"approval approval-{quote.status}",
                STORY_TITLES[quote.status],
                actor=actor,
                url=reverse("reports:account_quotes", args=[contact.account_id]),
                quotes=words,
                quote=quote,
            )
        )
    return events
