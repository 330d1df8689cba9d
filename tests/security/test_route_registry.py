"""Every route is classified before any sweep can pass: a new route without a rule fails here,
with a message that says what to add to tests/security/routes.py."""

import re

import pytest
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

from tests.security.routes import RULES, SKIPPED_PREFIXES, all_routes


def test_every_route_is_classified_and_its_objects_can_be_built():
    problems = [problem for route in all_routes() for problem in route.problems()]
    assert not problems, "\n".join(problems)


def test_every_rule_names_a_route_that_exists():
    names = {route.name for route in all_routes()}
    stale = sorted(set(RULES) - names)
    assert not stale, f"RULES in tests/security/routes.py name routes that are gone: {stale}"


def test_skipped_parts_of_the_site_say_why():
    assert all(reason.strip() for reason in SKIPPED_PREFIXES.values())


@pytest.mark.django_db
def test_every_api_operation_in_the_schema_is_a_classified_route(own):
    """The OpenAPI schema and the resolver agree: each documented path resolves to a route the
    sweeps cover, with every path parameter one they can fill in."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    values = {"id": own.account.pk, "account_pk": own.account.pk}
    problems = []
    for path, operations in schema["paths"].items():
        unknown = set(re.findall(r"{(\w+)}", path)) - set(values)
        if unknown:
            problems.append(f"{path}: path parameters {sorted(unknown)} unknown to this test")
            continue
        concrete = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
        try:
            match = resolve(concrete)
        except Resolver404:
            problems.append(f"{path} ({sorted(operations)}) resolves to no route")
            continue
        name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
        if match.url_name is None or name not in RULES:
            problems.append(f"{path} ({sorted(operations)}) resolves to unclassified {name!r}")
    assert not problems, "\n".join(problems)
