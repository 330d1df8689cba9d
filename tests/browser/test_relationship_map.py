"""The relationship map in Debian's Chromium: it draws, it toggles, and a person is a click away."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from contacts.models import BuyingRole, Contact
from tests.factories import ContactFactory, InfluenceLinkFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NODE_CENTRE = """name => {
    const cy = document.getElementById("relationship-map").cy;
    const node = cy.nodes("node.person").filter(n => n.data("name") === name);
    return node.renderedPosition();
}"""


@pytest.fixture
def org(account):
    # A transactional test starts from empty tables, without the migration's buying roles.
    for position, (code, label) in enumerate(BuyingRole.Code.choices):
        BuyingRole.objects.get_or_create(code=code, defaults={"label": label, "position": position})
    boss = ContactFactory(
        account=account, name="Anna Berg", job_title="Chief Executive", roles=["decision_maker"]
    )
    head = ContactFactory(account=account, name="Ben Holm", reports_to=boss, roles=["champion"])
    for name in ("Cleo Dahl", "Dan Eng", "Eva Falk"):
        ContactFactory(account=account, name=name, reports_to=head, roles=["user"])
    ContactFactory(account=account, name="Finn Gray", reports_to=boss, status=Contact.Status.LEFT)
    InfluenceLinkFactory(source=head, target=boss, kind="influences", strength=4)
    return {"boss": boss, "head": head}


def open_map(page, account):
    page.goto(reverse("contacts:map", args=[account.pk]))
    canvas = page.locator("#relationship-map")
    expect(canvas).to_have_attribute("data-ready", "true")
    return canvas


def test_manager_opens_the_map_and_clicks_through_to_a_person(login_page, manager, account, org):
    page = login_page(manager)
    canvas = open_map(page, account)

    expect(canvas).to_have_attribute("data-node-count", "6")
    expect(page.get_by_role("heading", name="Relationship map")).to_be_visible()
    box = canvas.bounding_box()
    centre = page.evaluate(NODE_CENTRE, "Ben Holm")
    assert 0 < centre["x"] < box["width"]
    assert 0 < centre["y"] < box["height"]

    page.mouse.click(box["x"] + centre["x"], box["y"] + centre["y"])

    page.wait_for_url(f"**{reverse('contacts:detail', args=[org['head'].pk])}")
    expect(page.get_by_role("heading", name="Ben Holm")).to_be_visible()


def test_people_who_left_and_influence_links_can_be_hidden(login_page, manager, account, org):
    page = login_page(manager)
    canvas = open_map(page, account)
    count_links = """() => document.getElementById("relationship-map").cy
        .edges("edge.link").filter(e => e.style("display") !== "none").length"""
    assert page.evaluate(count_links) == 1

    page.get_by_role("switch", name="People who left").uncheck()
    expect(canvas).to_have_attribute("data-node-count", "5")
    page.get_by_role("switch", name="Influence links").uncheck()
    assert page.evaluate(count_links) == 0

    page.get_by_role("switch", name="People who left").check()
    expect(canvas).to_have_attribute("data-node-count", "6")


def test_the_text_version_lists_everyone_under_their_manager(login_page, manager, account, org):
    page = login_page(manager)
    open_map(page, account)

    page.get_by_text("Text version").click()

    outline = page.locator(".map-outline-tree")
    expect(outline.get_by_role("link", name="Anna Berg")).to_be_visible()
    nested = outline.locator("li:has(> a:text-is('Ben Holm')) > ul > li")
    expect(nested).to_have_count(3)
    expect(nested.first).to_contain_text("Cleo Dahl")
