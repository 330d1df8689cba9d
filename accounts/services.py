"""Writes for accounts. Views call these after their form validated; gates live in the views."""

from collections.abc import Iterable

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountLogEntry, AccountMembership, ApiToken, Role, User
from core.models import AuditEvent
from core.services.audit import audit_record


def _account_team_set(*, account: Account, members: Iterable[User]) -> None:
    wanted = {user.pk for user in members} - {account.owner_id}
    account.memberships.exclude(user_id__in=wanted).delete()
    existing = set(account.memberships.values_list("user_id", flat=True))
    AccountMembership.objects.bulk_create(
        [AccountMembership(account=account, user_id=pk) for pk in sorted(wanted - existing)]
    )


@transaction.atomic
def account_create(*, fields: dict, team: Iterable[User] = ()) -> Account:
    """Create an account with its team. The owner is never listed twice (owner ∉ team)."""
    account = Account(**fields)
    account.full_clean()
    account.save()
    _account_team_set(account=account, members=team)
    return account


@transaction.atomic
def account_update(
    *,
    account: Account,
    fields: dict,
    team: Iterable[User] | None = None,
    actor: User | None = None,
    request=None,
) -> Account:
    """Update the given fields (and the team, when given) in one transaction.

    A change of owner is written to the audit log, by `actor`.
    """
    previous_owner = Account.objects.filter(pk=account.pk).values_list("owner", flat=True).first()
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    account.save()
    if team is not None:
        _account_team_set(account=account, members=team)
    if previous_owner is not None and previous_owner != account.owner_id:
        account_owner_change_record(
            account=account, previous_owner_id=previous_owner, actor=actor, request=request
        )
    return account


def account_owner_change_record(
    *, account: Account, previous_owner_id: int, actor: User | None, request=None
) -> None:
    """Write an account's change of owner to the audit log (edit form, admin or handover)."""
    previous = User.objects.filter(pk=previous_owner_id).first()
    audit_record(
        actor=actor,
        verb=AuditEvent.Verb.CHANGED,
        target_type="account",
        target_id=account.pk,
        target=account.name,
        detail={
            "field": "owner",
            "from": getattr(previous, "email", str(previous_owner_id)),
            "to": account.owner.email,
        },
        request=request,
    )


def user_access_change_record(
    *, user: User, previous_role: str, previous_active: bool, actor: User | None, request=None
) -> None:
    """After `user` was saved (admin or elsewhere): audit a change of role or of is_active, and
    end their sessions and API tokens when they were just deactivated."""
    if previous_role != user.role:
        audit_record(
            actor=actor,
            verb=AuditEvent.Verb.CHANGED,
            target_type="user",
            target_id=user.pk,
            target=user.email,
            detail={
                "field": "role",
                "from": Role(previous_role).label
                if previous_role in Role.values
                else previous_role,
                "to": user.get_role_display(),
            },
            request=request,
        )
    if previous_active != user.is_active:
        audit_record(
            actor=actor,
            verb=AuditEvent.Verb.CHANGED,
            target_type="user",
            target_id=user.pk,
            target=user.email,
            detail={"field": "is_active", "from": previous_active, "to": user.is_active},
            request=request,
        )
        if not user.is_active:
            user_sessions_end(user=user)


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None, request=None) -> User:
    """Deactivate `user`: they cannot log in, every session they have ends and every API
    token they own is revoked (a later reactivation does not quietly revive integrations).
    Their accounts, contacts and history stay; hand them over with `relationships_handover`.
    Idempotent."""
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_access_change_record(
        user=user, previous_role=user.role, previous_active=True, actor=actor, request=request
    )
    return user


def user_sessions_end(*, user: User) -> int:
    """End every session `user` has and revoke their API tokens. Returns the sessions ended.

    Sessions are known from allauth's user-session records (one per login). A session whose key
    changed since (a password change cycles it) or that was made without allauth has no record,
    so with database sessions the live ones are also read through once: deactivation is rare,
    and Django would refuse an inactive user's session anyway; this makes sure none lives on.
    """
    ended = 0
    for session in UserSession.objects.filter(user=user):
        session.end()
        ended += 1
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        stale = [
            row.session_key
            for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if row.get_decoded().get(SESSION_KEY) == str(user.pk)
        ]
        ended += Session.objects.filter(session_key__in=stale).delete()[0]
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return ended


@transaction.atomic
def account_log_entry_create(
    *,
    account: Account,
    author: User,
    kind: str,
    title: str,
    body: str = "",
    occurred_on=None,
    mentioned_contacts: Iterable = (),
) -> AccountLogEntry:
    """Add a dated entry to the account log; people it mentions see it in their story."""
    entry = AccountLogEntry(account=account, author=author, kind=kind, title=title, body=body)
    if occurred_on is not None:
        entry.occurred_on = occurred_on
    entry.full_clean()
    entry.save()
    mentioned = list(mentioned_contacts)
    if any(contact.account_id != account.pk for contact in mentioned):
        raise ValueError("Mentioned people must belong to the entry's account.")
    entry.mentioned_contacts.set(mentioned)
    return entry


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token for `user`. Returns the token row and the token itself,
    which is never stored and so can only be shown this once."""
    raw = ApiToken.generate()
    token = ApiToken(user=user, name=name.strip(), key_prefix=raw[:12], key_hash=ApiToken.hash(raw))
    token.full_clean()
    token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke a token: from now on it answers 401. Idempotent: False when already revoked."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    return bool(revoked)
