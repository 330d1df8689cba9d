"""Every route of the site, from the URL resolver and the OpenAPI schema, and what each may do.

The sweeps never keep a list of URLs: they walk `get_resolver()` and the schema that
drf-spectacular generates, and look each route up in RULES below. A route that RULES does not
classify, or whose URL names an object RULES cannot build, fails the sweeps with a message
saying what to add here. So a new route cannot ship without being swept.

How to classify a new route (add one line to RULES, keyed by its name, `namespace:name`):
- `Rule(PUBLIC, reason=…)`: reachable without logging in (say why);
- `Rule(LOGIN)`: any logged-in user; `Rule(ADMIN)`: administrators only (others get 403);
- if the URL names an object (`<int:pk>`, `<int:account_pk>`, …), `target=` builds the URL's
  arguments from a World (tests/security/world.py: one of every object, for one owner), and
  `scope=` says what someone of another team gets: ACCOUNT (reached through an account: 404),
  OWN (another user's own object: 404), ROLE (administrators' objects: 403) or SHARED (the same
  for every user, e.g. the questionnaire library: not swept, say why in `reason`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC, LOGIN, ADMIN = "public", "login", "admin"
ACCOUNT, OWN, ROLE, SHARED = "account", "own", "role", "shared"

# Parts of the URL tree that are not ours to sweep, and why.
SKIPPED_PREFIXES = {
    "admin/": "Django's admin has its own gate (staff = administrators); test_admin_needs_login",
    "static/": "static files hold no data",
    "media/": "uploads are served by the web server in production, never by a Django view",
}


@dataclass(frozen=True)
class Rule:
    access: str
    target: Callable | None = None
    scope: str = ACCOUNT
    reason: str = ""


# URL arguments whose meaning is the same in every route that uses them.
KWARGS = {
    "account_pk": lambda w: w.account.pk,
}


def _pk(build):
    return lambda w: {"pk": build(w)}


RULES: dict[str, Rule] = {
    # --- core ---
    "home": Rule(LOGIN),
    "healthz": Rule(PUBLIC, reason="load balancers probe it; it says only whether the DB is up"),
    "status": Rule(ADMIN),
    "webhooks": Rule(ADMIN),
    "webhook_detail": Rule(ADMIN, _pk(lambda w: w.endpoint.pk), ROLE),
    "webhook_toggle": Rule(ADMIN, _pk(lambda w: w.endpoint.pk), ROLE),
    "webhook_delivery": Rule(ADMIN, _pk(lambda w: w.delivery.pk), ROLE),
    "webhook_delivery_replay": Rule(ADMIN, _pk(lambda w: w.delivery.pk), ROLE),
    # --- logging in and out (django.contrib.auth) ---
    "login": Rule(PUBLIC, reason="the way in"),
    "logout": Rule(PUBLIC, reason="POST only, CSRF-protected; logging out needs no login"),
    "password_reset": Rule(PUBLIC, reason="people who forgot their password"),
    "password_reset_done": Rule(PUBLIC, reason="says an email is on its way"),
    "password_reset_confirm": Rule(
        PUBLIC,
        lambda w: {"uidb64": "MQ", "token": "set-password"},
        SHARED,
        reason="the emailed one-time link; Django checks its token",
    ),
    "password_reset_complete": Rule(PUBLIC, reason="says the password changed"),
    "password_change": Rule(LOGIN),
    "password_change_done": Rule(LOGIN),
    # --- django-allauth: logging in (with SSO and a second factor) ---
    "account_login": Rule(PUBLIC, reason="the way in"),
    "account_logout": Rule(PUBLIC, reason="logging out needs no login; POST is CSRF-protected"),
    "account_inactive": Rule(PUBLIC, reason="tells a deactivated person why they cannot log in"),
    "account_reauthenticate": Rule(LOGIN),
    "socialaccount_login_cancelled": Rule(PUBLIC, reason="where a cancelled SSO login lands"),
    "socialaccount_login_error": Rule(PUBLIC, reason="where a failed SSO login lands"),
    "openid_connect_login": Rule(
        PUBLIC, lambda w: {"provider_id": "rapport-sso"}, SHARED, reason="starts an SSO login"
    ),
    "openid_connect_callback": Rule(
        PUBLIC,
        lambda w: {"provider_id": "rapport-sso"},
        SHARED,
        reason="the identity provider sends the person back here; allauth checks its state",
    ),
    "mfa_authenticate": Rule(
        PUBLIC, reason="the second step of logging in; without a first step it sends to /login/"
    ),
    "mfa_reauthenticate": Rule(LOGIN),
    "mfa_index": Rule(LOGIN),
    "mfa_activate_totp": Rule(LOGIN),
    "mfa_deactivate_totp": Rule(LOGIN),
    "mfa_generate_recovery_codes": Rule(LOGIN),
    "mfa_download_recovery_codes": Rule(LOGIN),
    "mfa_view_recovery_codes": Rule(LOGIN),
    # --- the audit log (administrators) ---
    "audit_log": Rule(ADMIN),
    "audit_log_export": Rule(ADMIN, lambda w: {"fmt": "csv"}, ROLE),
    # --- accounts ---
    "accounts:list": Rule(LOGIN),
    "accounts:create": Rule(ADMIN),
    "accounts:detail": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "accounts:edit": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "accounts:log_add": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "accounts:api_tokens": Rule(LOGIN),
    "accounts:api_token_revoke": Rule(LOGIN, _pk(lambda w: w.api_token.pk), OWN),
    # --- contacts ---
    "contacts:people": Rule(LOGIN),
    "contacts:create": Rule(LOGIN),
    "contacts:detail": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:edit": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:leave": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:relationship_add": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:link_add": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:link_delete": Rule(LOGIN, _pk(lambda w: w.link.pk)),
    "contacts:coverage": Rule(LOGIN),
    "contacts:handover": Rule(ADMIN),
    "contacts:import": Rule(LOGIN),
    "contacts:import_confirm": Rule(LOGIN),
    "contacts:export_csv": Rule(LOGIN),
    "contacts:export_xlsx": Rule(LOGIN),
    "contacts:map": Rule(LOGIN),
    "contacts:map_data": Rule(LOGIN),
    "contacts:personal_data": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "contacts:erase": Rule(ADMIN, _pk(lambda w: w.contact.pk)),
    # --- pulses ---
    "pulses:survey": Rule(
        PUBLIC,
        lambda w: {"token": w.link_token},
        SHARED,
        reason="the contact's personal link: the token is the credential (tests/security/"
        "test_tokens.py and tests/pulses/)",
    ),
    "pulses:unsubscribe": Rule(
        PUBLIC,
        lambda w: {"token": w.link_token},
        SHARED,
        reason="the contact's personal link, and RFC 8058 one-click POSTs from mail servers",
    ),
    "pulses:record": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "pulses:account": Rule(LOGIN),
    "pulses:export": Rule(LOGIN),
    "pulses:export_account": Rule(LOGIN),
    # --- actions ---
    "actions:inbox": Rule(LOGIN),
    "actions:acknowledgement": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "actions:reply": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "actions:in_person": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "actions:review": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "actions:sla": Rule(LOGIN),
    "actions:account": Rule(LOGIN),
    "actions:action": Rule(LOGIN, _pk(lambda w: w.action.pk)),
    "actions:send_summary": Rule(LOGIN),
    "actions:review_wave": Rule(LOGIN),
    "actions:candidates": Rule(LOGIN),
    "actions:mark_candidate": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "actions:consent": Rule(LOGIN, _pk(lambda w: w.candidate.pk)),
    "actions:plan": Rule(LOGIN),
    "actions:add_objective": Rule(LOGIN, _pk(lambda w: w.plan.pk)),
    "actions:objective_progress": Rule(LOGIN, _pk(lambda w: w.objective.pk)),
    "actions:export": Rule(LOGIN),
    "actions:export_account": Rule(LOGIN),
    # --- change maps ---
    "changemaps:portfolio": Rule(LOGIN),
    "changemaps:account": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "changemaps:territory": Rule(LOGIN, _pk(lambda w: w.territory.pk)),
    "changemaps:segment": Rule(LOGIN, _pk(lambda w: w.segment.pk)),
    "changemaps:export_portfolio": Rule(LOGIN),
    "changemaps:export_account": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "changemaps:export_territory": Rule(LOGIN, _pk(lambda w: w.territory.pk)),
    "changemaps:export_segment": Rule(LOGIN, _pk(lambda w: w.segment.pk)),
    # --- reports and quotes ---
    "reports:list": Rule(LOGIN),
    "reports:request": Rule(LOGIN),
    "reports:job": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "reports:progress": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "reports:download": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "reports:regenerate": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "reports:account_quotes": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "reports:quote_propose": Rule(LOGIN, _pk(lambda w: w.answer.pk)),
    "reports:quote_request": Rule(LOGIN, _pk(lambda w: w.quote.pk)),
    "reports:quote_approval": Rule(
        PUBLIC,
        lambda w: {"token": w.quote_token},
        SHARED,
        reason="the quoted person's personal approval link: the token is the credential",
    ),
    # --- REST API (/api/v1/) ---
    "api:api-root": Rule(LOGIN),
    "api:<catch-all>": Rule(PUBLIC, reason="answers every unknown API path with a 404"),
    "api:account-list": Rule(LOGIN),
    "api:account-detail": Rule(LOGIN, _pk(lambda w: w.account.pk)),
    "api:account-log-list": Rule(LOGIN),
    "api:account-log-detail": Rule(
        LOGIN, lambda w: {"account_pk": w.account.pk, "pk": w.log_entry.pk}
    ),
    "api:user-list": Rule(LOGIN),
    "api:user-detail": Rule(
        LOGIN,
        _pk(lambda w: w.owner.pk),
        SHARED,
        reason="our own people (names, emails) are listed for everyone who may log in",
    ),
    "api:contact-list": Rule(LOGIN),
    "api:contact-detail": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "api:contact-subject-access": Rule(LOGIN, _pk(lambda w: w.contact.pk)),
    "api:contact-erase": Rule(ADMIN, _pk(lambda w: w.contact.pk)),
    "api:influence-link-list": Rule(LOGIN),
    "api:influence-link-detail": Rule(LOGIN, _pk(lambda w: w.link.pk)),
    "api:questionnaire-list": Rule(LOGIN),
    "api:questionnaire-detail": Rule(
        LOGIN,
        _pk(lambda w: w.wave.questionnaire_version.questionnaire_id),
        SHARED,
        reason="the questionnaire library is the same for everyone who may log in",
    ),
    "api:programme-list": Rule(LOGIN),
    "api:programme-detail": Rule(LOGIN, _pk(lambda w: w.programme.pk)),
    "api:wave-list": Rule(LOGIN),
    "api:wave-detail": Rule(LOGIN, _pk(lambda w: w.wave.pk)),
    "api:response-list": Rule(LOGIN),
    "api:response-detail": Rule(LOGIN, _pk(lambda w: w.response.pk)),
    "api:changemap-contact-list": Rule(LOGIN),
    "api:changemap-account-list": Rule(LOGIN),
    "api:acknowledgement-list": Rule(LOGIN),
    "api:acknowledgement-detail": Rule(LOGIN, _pk(lambda w: w.acknowledgement.pk)),
    "api:action-list": Rule(LOGIN),
    "api:action-detail": Rule(LOGIN, _pk(lambda w: w.action.pk)),
    "api:report-list": Rule(LOGIN),
    "api:report-detail": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "api:report-download": Rule(LOGIN, _pk(lambda w: w.report_job.pk)),
    "api-schema": Rule(PUBLIC, reason="the OpenAPI description: no data, only the API's shape"),
    "api-docs": Rule(PUBLIC, reason="Swagger UI for the schema, from our own static files"),
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]
    is_api: bool

    def rule(self) -> Rule | None:
        return RULES.get(self.name)

    def problems(self) -> list[str]:
        """What the developer must add to RULES before the sweeps can cover this route."""
        rule = self.rule()
        if rule is None:
            return [
                f"route {self.name!r} ({self.pattern}) is not classified: add "
                f'RULES["{self.name}"] = Rule(PUBLIC|LOGIN|ADMIN, …) in tests/security/routes.py'
            ]
        if rule.target is None and (unknown := [k for k in self.kwargs if k not in KWARGS]):
            return [
                f"route {self.name!r} ({self.pattern}) names an object by {unknown}: give "
                f"RULES[{self.name!r}] a target (lambda world: {{{unknown[0]!r}: …}}) built "
                "from tests/security/world.py, and a scope"
            ]
        if rule.access == PUBLIC and not rule.reason:
            return [f"public route {self.name!r} needs a reason saying why it is public"]
        if rule.scope == SHARED and self.kwargs and not rule.reason:
            return [f"route {self.name!r} is SHARED: say why in its reason"]
        return []

    def kwargs_for(self, world) -> dict:
        rule = self.rule()
        if rule.target is not None:
            return rule.target(world)
        return {name: KWARGS[name](world) for name in self.kwargs}

    @property
    def names_an_object(self) -> bool:
        return bool(self.kwargs)


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def all_routes() -> list[Route]:
    """Every route the resolver knows, minus SKIPPED_PREFIXES; each name once (Django resolves
    a name to its first pattern, which is what `reverse` and the sweeps use)."""
    routes: dict[str, Route] = {}
    for pattern, namespace, entry in _walk(get_resolver()):
        if any(pattern.startswith(prefix) for prefix in SKIPPED_PREFIXES):
            continue
        name = entry.name or "<catch-all>"
        full = f"{namespace}:{name}" if namespace else name
        kwargs = tuple(entry.pattern.regex.groupindex)
        routes.setdefault(full, Route(full, pattern, kwargs, pattern.startswith("api/")))
    return sorted(routes.values(), key=lambda route: route.name)


def url_of(route: Route, world) -> str:
    from django.urls import reverse

    if route.name == "api:<catch-all>":
        return "/api/v1/no-such-resource/"
    return reverse(route.name, kwargs=route.kwargs_for(world))
