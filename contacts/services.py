"""Writes for contacts: create, update, leave, relationships, influence links and handovers.

Every function validates before it writes and writes in one transaction, so a failure leaves
nothing half-done. `actor` is recorded as the author of the history entries it creates.
"""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountMembership, User
from changemaps.services import changemaps_mark_dirty
from contacts.models import BuyingRole, Contact, Handover, InfluenceLink, InternalRelationship
from core.models import AuditEvent
from core.services.audit import audit_record
from core.services.webhooks import on_commit_publish


def _save_with_history(obj, *, actor: User | None, reason: str | None = None) -> None:
    obj._history_user = actor
    if reason:
        obj._change_reason = reason
    obj.save()


def _set_consent_time(contact: Contact, previous_consent: str | None) -> None:
    if contact.pulse_consent != previous_consent:
        contact.pulse_consent_at = timezone.now()


@transaction.atomic
def contact_create(
    *, account: Account, fields: dict, roles: Iterable[BuyingRole | str] = (), actor: User | None
) -> Contact:
    """Create a contact in `account` with its buying roles. Raises ValidationError on bad input."""
    contact = Contact(account=account, **fields)
    _set_consent_time(contact, None)
    contact.full_clean()
    _save_with_history(contact, actor=actor)
    contact.buying_roles.set(roles)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    fields: dict,
    roles: Iterable[BuyingRole | str] | None = None,
    actor: User | None,
    reason: str | None = None,
) -> Contact:
    """Update the given fields (and roles, when given). History records only real changes.

    Marking someone as left publishes the `contact.left` webhook event once committed.
    """
    if contact.erased_at:
        _refuse_personal_data_after_erasure(contact, fields)
    previous_consent = contact.pulse_consent
    previous_status = contact.status
    previous_owner = contact.owner
    for name, value in fields.items():
        setattr(contact, name, value)
    _set_consent_time(contact, previous_consent)
    contact.full_clean()
    _save_with_history(contact, actor=actor, reason=reason)
    # Status, influence, roles and department feed the change maps.
    changemaps_mark_dirty()
    if roles is not None:
        wanted = {r.code if isinstance(r, BuyingRole) else r for r in roles}
        if wanted != contact.role_codes:
            contact.buying_roles.set(wanted)
    if contact.status == Contact.Status.LEFT and previous_status != Contact.Status.LEFT:
        on_commit_publish("contact.left", lambda: _contact_data(contact.pk))
    if contact.owner_id != getattr(previous_owner, "pk", None):
        audit_record(
            actor=actor,
            verb=AuditEvent.Verb.CHANGED,
            target_type="contact",
            target_id=contact.pk,
            target=contact.name,
            detail={
                "field": "owner",
                "from": getattr(previous_owner, "email", ""),
                "to": getattr(contact.owner, "email", ""),
                "reason": reason or "",
            },
        )
    return contact


ERASED_FIELD_LOCKED = "This person's personal data was erased at their request; it stays erased."


def _refuse_personal_data_after_erasure(contact: Contact, fields: dict) -> None:
    """Department, roles, influence, owner and status stay editable after an erasure (the
    account's structure); name, address, notes and the rest of `Contact.LOCKED_AFTER_ERASURE` do
    not, whoever asks (form, API, import)."""
    refused = {
        name: ERASED_FIELD_LOCKED
        for name, value in fields.items()
        if name in Contact.LOCKED_AFTER_ERASURE and value != getattr(contact, name)
    }
    if refused:
        raise ValidationError(refused)


def _contact_data(contact_id: int) -> dict | None:
    from contacts.selectors import contact_data  # selectors reach the API serializers

    return contact_data(contact_id=contact_id)


def contact_mark_left(
    *, contact: Contact, actor: User | None, left_on: date | None = None, note: str = ""
) -> Contact:
    """Mark a contact as having left the company. They are kept, with their whole story."""
    return contact_update(
        contact=contact,
        fields={"status": Contact.Status.LEFT, "left_on": left_on or timezone.localdate()},
        actor=actor,
        reason=note or "Left the company",
    )


def relationship_set(
    *, contact: Contact, user: User, strength: int, notes: str = ""
) -> InternalRelationship:
    """Record (or update) how well `user` on our side knows `contact`."""
    relationship = InternalRelationship.objects.filter(contact=contact, user=user).first()
    relationship = relationship or InternalRelationship(contact=contact, user=user)
    relationship.strength = strength
    relationship.notes = notes
    relationship.full_clean()
    relationship.save()
    return relationship


def influence_link_create(
    *, source: Contact, target: Contact, kind: str, strength: int
) -> InfluenceLink:
    """Link two people of the same account. Raises ValidationError for self-links or cross-account."""
    link = InfluenceLink(source=source, target=target, kind=kind, strength=strength)
    link.full_clean()
    link.save()
    return link


def influence_link_delete(*, link: InfluenceLink) -> None:
    """Remove a link between two people (the map loses that edge; the people stay)."""
    link.delete()


@transaction.atomic
def relationships_handover(
    *, from_user: User, to_user: User, performed_by: User, note: str = ""
) -> Handover:
    """Move everything `from_user` holds to `to_user` in one step, recorded in history.

    Contacts they own get `to_user` as owner (a history entry each, with the reason); their
    internal relationships move (merged with the stronger one where `to_user` already knows the
    person); accounts they own change owner; their team memberships move; acknowledgements they
    still owe become the new person's. Nothing is lost and
    running it again moves nothing more.
    """
    if from_user.pk == to_user.pk:
        raise ValueError("Hand over to someone else.")
    reason = f"Handover from {from_user} to {to_user}"

    contacts = list(Contact.objects.filter(owner=from_user))
    for contact in contacts:
        contact.owner = to_user
        _save_with_history(contact, actor=performed_by, reason=reason)

    relationships_moved = 0
    for relationship in InternalRelationship.objects.filter(user=from_user).select_related(
        "contact"
    ):
        existing = InternalRelationship.objects.filter(
            contact=relationship.contact, user=to_user
        ).first()
        if existing:
            if relationship.strength > existing.strength:
                existing.strength = relationship.strength
                existing.save(update_fields=["strength"])
            relationship.delete()
        else:
            relationship.user = to_user
            relationship.save(update_fields=["user"])
        relationships_moved += 1

    account_names = list(Account.objects.filter(owner=from_user).values_list("name", flat=True))
    accounts_moved = Account.objects.filter(owner=from_user).update(owner=to_user)
    # The new owner is no longer "also on the team" of the accounts they now own.
    AccountMembership.objects.filter(user=to_user, account__owner=to_user).delete()

    memberships_moved = 0
    for membership in AccountMembership.objects.filter(user=from_user).select_related("account"):
        already = AccountMembership.objects.filter(
            account=membership.account, user=to_user
        ).exists()
        if already or membership.account.owner_id == to_user.pk:
            membership.delete()
        else:
            membership.user = to_user
            membership.save(update_fields=["user"])
        memberships_moved += 1

    # Acknowledgements still owed move too, so no response waits on someone who has gone.
    from actions.models import Acknowledgement  # actions builds on contacts

    Acknowledgement.objects.filter(owner=from_user, status=Acknowledgement.Status.PENDING).update(
        owner=to_user
    )

    audit_record(
        actor=performed_by,
        verb=AuditEvent.Verb.CHANGED,
        target_type="handover",
        target_id=from_user.pk,
        target=reason,
        detail={
            "field": "owner",
            "from": from_user.email,
            "to": to_user.email,
            "contacts": len(contacts),
            "accounts": accounts_moved,
            "account_names": account_names,
            "relationships": relationships_moved,
            "team_places": memberships_moved,
        },
    )
    return Handover.objects.create(
        from_user=from_user,
        to_user=to_user,
        performed_by=performed_by,
        contacts_moved=len(contacts),
        relationships_moved=relationships_moved,
        accounts_moved=accounts_moved,
        memberships_moved=memberships_moved,
        note=note,
    )
