"""Header injection: every email built from names and subjects that people typed stays one
header per line. tests/pulses/test_sending.py shows it for invitations; this covers every
close-the-loop email (receipt, personal reply with its typed subject, reminder, escalation)
and the "you said, we did" summary, with a line break in every name that reaches a header.
"""

import pytest

from accounts.models import Account, User
from actions.models import AcknowledgementEmail, SummaryEmail, SummaryMailing
from actions.services.acknowledgement_emails import acknowledgement_email
from actions.services.acknowledgements import acknowledgement_reply
from actions.services.summaries import summary_email
from contacts.models import Contact

pytestmark = pytest.mark.django_db

INJECTED = "\r\nBcc: evil@attacker.example\r\nX-Injected: yes"


def _headers(message) -> list[str]:
    raw = message.message().as_bytes().decode("utf-8", "replace")
    head = raw.split("\n\n", 1)[0]
    return head.splitlines()


def _injected(message) -> list[str]:
    lines = _headers(message)
    return [line for line in lines if line.lower().startswith(("bcc:", "x-injected:"))]


def test_names_and_typed_subjects_cannot_add_headers_to_any_email(own, manager):
    User.objects.filter(pk=manager.pk).update(full_name=f"Maya{INJECTED}")
    Contact.objects.filter(pk=own.contact.pk).update(name=f"Alice{INJECTED}")
    Account.objects.filter(pk=own.account.pk).update(name=f"Northwind{INJECTED}")
    manager.refresh_from_db()
    acknowledgement = own.acknowledgement
    acknowledgement_reply(
        acknowledgement=acknowledgement,
        by=manager,
        subject=f"Thank you{INJECTED}",
        body="Thank you for your time.",
    )
    for kind in AcknowledgementEmail.Kind.values:
        AcknowledgementEmail.objects.get_or_create(acknowledgement=acknowledgement, kind=kind)
    mailing = SummaryMailing.objects.create(account=own.account, sent_by=manager, statements=[])
    summary = SummaryEmail.objects.create(mailing=mailing, contact=own.contact)

    built = {
        email.kind: acknowledgement_email(email)
        for email in AcknowledgementEmail.objects.filter(acknowledgement=acknowledgement)
    }
    built["summary"] = summary_email(SummaryEmail.objects.get(pk=summary.pk))
    assert set(built) == {*AcknowledgementEmail.Kind.values, "summary"}
    for kind, message in built.items():
        assert not _injected(message), (kind, _headers(message))
    # The typed subject arrives, on one line.
    subject = built["reply"].message()["Subject"]
    assert "Thank you" in subject
    assert "\n" not in subject
    assert "\r" not in subject
