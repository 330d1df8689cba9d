"""The OpenAPI schema at /api/schema/ and the interactive docs at /api/docs/ (no CDN)."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/accounts/",
    "/api/v1/accounts/{id}/",
    "/api/v1/accounts/{account_pk}/log/",
    "/api/v1/contacts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/influence-links/",
    "/api/v1/questionnaires/",
    "/api/v1/programmes/",
    "/api/v1/waves/",
    "/api/v1/responses/",
    "/api/v1/responses/{id}/",
    "/api/v1/users/",
    "/api/v1/changemap-contacts/",
    "/api/v1/changemap-accounts/",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_every_resource_is_described(schema):
    assert set(schema["paths"]) >= PATHS
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_errors_are_documented_as_problem_details(schema):
    operation = schema["paths"]["/api/v1/contacts/{id}/"]["patch"]

    for status in ("400", "401", "403", "404", "429"):
        assert "application/problem+json" in operation["responses"][status]["content"]
    assert "304" in schema["paths"]["/api/v1/contacts/{id}/"]["get"]["responses"]


def test_the_main_resources_have_examples(schema):
    for path in ("/api/v1/accounts/{id}/", "/api/v1/contacts/{id}/", "/api/v1/responses/{id}/"):
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert content.get("examples"), path


def test_tokens_are_the_documented_authentication(schema):
    assert schema["components"]["securitySchemes"]["personalToken"]["scheme"] == "bearer"


def test_the_docs_load_their_assets_from_our_own_static_files(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    content = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', content)
    assert sources
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by Rapport"
    assets = [s for s in sources if s.startswith("/static/")]
    assert any("swagger-ui-bundle" in s for s in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset
    assert "<script>" not in content  # the init script is a file too (our CSP has no inline JS)


def test_the_docs_init_script_is_served(client):
    script = client.get("/api/docs/?script=")

    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
