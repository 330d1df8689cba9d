"""The demo supplier: realistic, deterministic, and idempotent."""

import pytest
from django.core.management import call_command

from accounts.models import Account, AccountLogEntry, User
from actions.models import (
    AccountPlan,
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    AdvocacyCandidate,
    FeedbackReview,
    PlanObjective,
)
from actions.selectors import you_said_we_did_for
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
    Acknowledgement,
    AcknowledgementEmail,
    Action,
    ActionUpdate,
    FeedbackReview,
    AdvocacyCandidate,
    AccountPlan,
    PlanObjective,
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

    # Closing the loop: acknowledgements mostly on time, some late, some still waiting.
    acknowledgements = Acknowledgement.objects.all()
    assert acknowledgements.filter(status="pending").exists()
    assert acknowledgements.filter(status="replied").exists()
    assert acknowledgements.filter(status="in_person").exists()
    done = [a for a in acknowledgements if a.acknowledged_at]
    on_time = sum(1 for a in done if a.on_time)
    assert 0.7 < on_time / len(done) < 1
    assert AcknowledgementEmail.objects.filter(kind="receipt").count() == len(acknowledgements)

    # Focus actions: last cycle's done with "you said, we did", this cycle's in progress; the
    # people who answered last time see what was done on this pulse's survey page.
    assert Action.objects.filter(is_focus=True, status="done").exclude(you_said_we_did="").exists()
    assert Action.objects.filter(is_focus=True, status="in_progress").exists()
    open_wave = Wave.objects.get(status=Wave.Status.OPEN)
    assert any(
        you_said_we_did_for(contact=i.contact, wave=open_wave)
        for i in Invitation.objects.filter(wave=open_wave).select_related("contact")[:200]
    )
    # Reviews of responses and of waves, candidates with consent, plans with an overdue objective.
    assert FeedbackReview.objects.filter(response__isnull=False).exists()
    assert FeedbackReview.objects.filter(response__isnull=True).exists()
    assert AdvocacyCandidate.objects.filter(consent="given").exists()
    assert AdvocacyCandidate.objects.filter(consent="not_asked").exists()
    assert AccountPlan.objects.exists()
    assert any(o.is_overdue() for o in PlanObjective.objects.all())
