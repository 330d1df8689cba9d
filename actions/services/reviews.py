"""Feedback reviews: the team challenges itself with what a person, or a whole wave, said."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, User
from actions.models import FeedbackReview
from pulses.models import Response, Wave

FIELDS = ("fairness", "nature", "not_mentioned", "notes")


def feedback_review_save(
    *,
    account: Account,
    by: User,
    fields: dict,
    response: Response | None = None,
    wave: Wave | None = None,
) -> FeedbackReview:
    """Record the team's review of `response`, or of `wave` as a whole for `account`.

    One review per response and one per account and wave: reviewing again updates it (and
    `by` becomes its author). The response must be from the account (ValidationError). Two
    people saving the first review at once: the second save updates the first's row.
    """
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Not a review field: {sorted(unknown)}")
    if response is not None:
        if response.contact.account_id != account.pk:
            raise ValidationError("That response is not from this account.")
        wave, lookup = response.wave, {"response": response}
    elif wave is None:
        raise ValidationError({"wave": "Choose the pulse you review."})
    else:
        lookup = {"account": account, "wave": wave, "response__isnull": True}
    for attempt in range(2):
        try:
            with transaction.atomic():
                review = FeedbackReview.objects.select_for_update().filter(**lookup).first()
                review = review or FeedbackReview(account=account, wave=wave, response=response)
                for name, value in fields.items():
                    setattr(review, name, value)
                review.author = by
                review.full_clean(validate_constraints=False)
                review.save()
                return review
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")
