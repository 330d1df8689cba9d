"""What replaces a person's words, and the helpers that clear them: shared by erasure and
retention. A cleared field holds one of PLACEHOLDERS, which is how both find what is left."""

from collections import Counter
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from actions.models import Acknowledgement, AdvocacyCandidate
from contacts.models import Contact
from pulses.models import Answer, Question, Response
from reports.models import Quote

# What replaces words that were written by or about an erased person, and words past retention.
ERASED_TEXT = "[erased]"
EXPIRED_TEXT = "[removed after the retention period]"
PLACEHOLDERS = ("", ERASED_TEXT, EXPIRED_TEXT)
MIN_NEEDLE = 3


def erased_name(contact_id: int) -> str:
    return f"Erased person #{contact_id}"


def erased_email(contact_id: int) -> str:
    # RFC 2606: .invalid never resolves, and the address stays unique within the account.
    return f"erased-{contact_id}@erased.invalid"


def text_mentions(fields: Iterable[str], needles: Iterable[str]) -> Q:
    """Rows where any of `fields` contains any of `needles` (no needle: no row)."""
    condition = Q(pk__in=[])
    for needle in needles:
        for name in fields:
            condition |= Q(**{f"{name}__icontains": needle})
    return condition


def identifiers(contact: Contact) -> list[str]:
    return [value for value in (contact.name, contact.email) if len(value or "") >= MIN_NEEDLE]


def set_text(queryset: QuerySet, field_name: str, value: str) -> int:
    """Set a free-text field to `value` on rows where it holds words (not already a placeholder)."""
    return queryset.exclude(**{f"{field_name}__in": PLACEHOLDERS}).update(**{field_name: value})


def responses_strip_text(responses: QuerySet[Response], *, placeholder: str) -> Counter:
    """Clear the free text of `responses` and whatever repeats it: acknowledgement notes and
    replies, quotes (withdrawn, link revoked) and candidacy quotes. Scores stay."""
    changes = Counter()
    changes["answers"] += (
        Answer.objects.filter(response__in=responses).exclude(text="").update(text="")
    )
    acknowledgements = Acknowledgement.objects.filter(response__in=responses)
    for name in ("note", "reply_subject", "reply_body"):
        changes["acknowledgements"] += set_text(acknowledgements, name, placeholder)
    changes["quotes"] += quotes_withdraw(
        Quote.objects.filter(answer__response__in=responses), placeholder=placeholder
    )
    changes["candidacies"] += set_text(
        AdvocacyCandidate.objects.filter(response__in=responses), "quote", placeholder
    )
    return changes


def quotes_withdraw(quotes: QuerySet[Quote], *, placeholder: str) -> int:
    changed = set_text(quotes, "text", placeholder) + set_text(quotes, "original_text", placeholder)
    changed += quotes.exclude(status=Quote.Status.WITHDRAWN).update(
        status=Quote.Status.WITHDRAWN, decided_at=timezone.now()
    )
    # Revoked: the approval page answers like an unknown link.
    changed += quotes.filter(Q(token_hash__isnull=False) | ~Q(token_nonce="")).update(
        token_hash=None, token_nonce="", link_expires_at=None
    )
    return changed


class TextAnswers:
    """Which answer keys of a wave are free text, per wave, for one run: free text and single
    choices are both strings in a webhook body's `answers`; a choice is a structured answer,
    like a rating, and is told apart by its question's kind."""

    def __init__(self):
        self._keys: dict[int, set[str]] = {}

    def is_text(self, key: str, data: dict) -> bool:
        wave_id = data.get("wave")
        if wave_id not in self._keys:
            self._keys[wave_id] = set(
                Question.objects.filter(
                    version__waves=wave_id, kind=Question.Kind.OPEN_TEXT
                ).values_list("key", flat=True)
            )
        return key in self._keys[wave_id]
