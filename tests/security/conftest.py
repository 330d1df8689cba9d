"""Two worlds for the sweeps: the manager's (with the teammate on its team) and the outsider's.

Markers are distinctive words that occur nowhere else, so finding one in a response means
that side's data is in it.
"""

import pytest
from django.core.cache import cache

from tests.security.world import build_world

OWN_MARKER = "Ownmark"
FOREIGN_MARKER = "Zanzibarx"


@pytest.fixture(autouse=True)
def _fresh_counters():
    # Rate-limit and throttle counters live in the cache (Redis on CI): start every sweep at zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def own(manager, teammate):
    world = build_world(owner=manager, marker=OWN_MARKER)
    world.account.memberships.create(user=teammate)
    return world


@pytest.fixture
def foreign(outsider):
    return build_world(owner=outsider, marker=FOREIGN_MARKER)
