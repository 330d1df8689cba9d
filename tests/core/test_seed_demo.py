"""The demo supplier: realistic, deterministic, and idempotent."""

import pytest
from django.core.management import call_command

from accounts.models import Account, AccountLogEntry, User
from contacts.models import Contact, InfluenceLink, InternalRelationship
from pulses.models import Answer, Invitation, Response, Wave

pytestmark = pytest.mark.django_db

MODELS = [
    User,
    Account,
    AccountLogEntry,
    Contact,
    InfluenceLink,
    InternalRelationship,
    Wave,
    Invitation,
    Response,
    Answer,
]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS} | {
        "history": Contact.history.count()
    }


def test_seed_demo_builds_the_whole_product_and_running_it_twice_changes_nothing():
    call_command("seed_demo", verbosity=0)
    first = _counts()
    scores = list(
        Response.objects.order_by("contact__email", "wave__opens_on").values_list(
            "score", flat=True
        )
    )
    call_command("seed_demo", verbosity=0)
    assert _counts() == first
    assert (
        list(
            Response.objects.order_by("contact__email", "wave__opens_on").values_list(
                "score", flat=True
            )
        )
        == scores
    )

    assert first["User"] == 8
    assert first["Account"] == 25
    assert all(8 <= a.contacts.count() <= 40 for a in Account.objects.all())
    assert Contact.objects.filter(status=Contact.Status.LEFT).exists()
    assert Contact.objects.filter(owner__isnull=True).exists()  # coverage gaps to find
    assert first["Wave"] == 12
    assert Wave.objects.filter(status=Wave.Status.OPEN).count() == 1
    # Every journey the change maps need: high scores, low scores, people who stopped answering.
    assert Response.objects.filter(score__gte=9).exists()
    assert Response.objects.filter(score__lte=6).exists()
    assert Invitation.objects.filter(response__isnull=True).exists()
    # Every response is balanced: what goes well and what to improve, in their own words.
    response = Response.objects.first()
    assert response.answer_for("keep_doing")
    assert response.answer_for("improve")
