"""Reads: every account a view shows comes through here, scoped by ``visible_to``."""

from django.db.models import Count, F, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Account, AccountLogEntry, ApiToken, User


def account_list_for_user(*, user: User) -> QuerySet[Account]:
    return (
        Account.objects.visible_to(user)
        .select_related("owner", "segment", "territory", "parent")
        .annotate(team_size=Count("memberships", distinct=True))
        # GROUP BY queries ignore Meta.ordering; pagination needs a stable order.
        .order_by("name", "pk")
    )


def account_get_for_user(*, user: User, pk: int) -> Account:
    """The account if `user` may see it; 404 otherwise, so its existence is never confirmed."""
    return get_object_or_404(
        Account.objects.visible_to(user).select_related("owner", "segment", "territory", "parent"),
        pk=pk,
    )


def account_detail_context(*, account: Account, log_limit: int = 50) -> dict:
    memberships = account.memberships.select_related("user").order_by("user__full_name")
    log_entries = account.log_entries.select_related("author").prefetch_related(
        "mentioned_contacts"
    )[:log_limit]
    return {
        "memberships": list(memberships),
        "log_entries": list(log_entries),
        "log_count": account.log_entries.count(),
        "children": list(account.children.order_by("name")),
    }


def account_log_for_user(*, user: User, account_pk: int) -> QuerySet[AccountLogEntry]:
    account = account_get_for_user(user=user, pk=account_pk)
    return account.log_entries.select_related("author")


def users_assignable() -> QuerySet[User]:
    """People who can own or join an account: active staff of any role."""
    return User.objects.filter(is_active=True).order_by("full_name")


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """A user's own tokens, live ones first: nobody sees anyone else's, administrators included."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken:
    return get_object_or_404(ApiToken.objects.filter(user=user), pk=pk)
