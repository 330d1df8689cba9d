"""Writes for accounts. Views call these after their form validated; gates live in the views."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountLogEntry, AccountMembership, ApiToken, User


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
    *, account: Account, fields: dict, team: Iterable[User] | None = None
) -> Account:
    """Update the given fields (and the team, when given) in one transaction."""
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    account.save()
    if team is not None:
        _account_team_set(account=account, members=team)
    return account


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
