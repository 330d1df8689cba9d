"""The change-map rules (CHANGE_MAP_RULES.md), vectorised over every contact at once.

Pure pandas and NumPy: the inputs are DataFrames (see `changemaps.selectors` for where they come
from), the outputs are DataFrames, and nothing here touches the ORM, so the rules can be tested
against a plain reference implementation and benchmarked on their own. `inputs` holds the
thresholds and prepares the frames, `classify` applies the table, `aggregate` sums groups.

Inputs
------
invitations
    One row per (contact, wave) the contact was invited to or answered in: ``contact_id``,
    ``wave_id``, ``wave_opens_on`` (date-like), ``wave_name``, ``score`` (0–10, NaN when there is
    no relationship score). Optional: ``responded`` (a response exists, with or without a score;
    default ``score`` is not NaN) and ``pending`` (the wave is still open; default False).
    A wave's history position is its opening date, then its id.
contacts
    One row per contact: ``contact_id``, ``account_id``, ``status`` (``"left"`` = left the
    company), ``influence`` (1–5, NaN unknown), ``department`` (text, "" none), ``roles`` (a
    sequence of buying-role codes). Optional: ``left_on`` (date-like, NaT unknown).
accounts
    For aggregates: ``account_id``, ``account_name``, ``territory_id``, ``territory_name``,
    ``segment_id``, ``segment_name``, ``owner_id``, ``owner_name`` (NaN ids: none).

Decisions the rules table leaves open, taken here once:

- *Who is on the map*: everyone with at least one row in `invitations` up to the wave.
- *History*: an unanswered row of a wave that is still open is not silence yet, and a response
  without a relationship score (an interview that skipped it) is neither a score nor silence;
  both rows are left out of the history. They still count for participation.
- *As of a past wave*: the history up to and including that wave; someone who left counts as
  departed from the wave before they left (``left_on`` earlier than the next wave's opening).
  Roles and influence are today's.
"""

from changemaps.rules.aggregate import (
    PORTFOLIO,
    PORTFOLIO_KEY,
    aggregate,
    changemap,
    combine_groups,
)
from changemaps.rules.classify import classify, classify_waves
from changemaps.rules.inputs import (
    CONTACT_COLUMNS,
    DIMENSIONS,
    GROUP_COLUMNS,
    LEFT,
    RUN,
    ChangeMap,
    ChangeMapInputs,
    Thresholds,
    key_people,
    role_label,
    wave_order,
    wave_phrase,
)

__all__ = [
    "CONTACT_COLUMNS",
    "DIMENSIONS",
    "GROUP_COLUMNS",
    "LEFT",
    "PORTFOLIO",
    "PORTFOLIO_KEY",
    "RUN",
    "ChangeMap",
    "ChangeMapInputs",
    "Thresholds",
    "aggregate",
    "changemap",
    "classify",
    "classify_waves",
    "combine_groups",
    "key_people",
    "role_label",
    "wave_order",
    "wave_phrase",
]
