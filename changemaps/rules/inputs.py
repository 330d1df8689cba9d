"""The rules' inputs: thresholds, the input frames, and their preparation (sorted once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings

LEFT = "left"  # Contact.Status.LEFT (checked by a test; this module stays free of Django models)
RUN = 3  # "the last three scores" of rules 9 and 10
DIMENSIONS = ("account", "territory", "segment", "owner")
NO_GROUP = {"territory": "No territory", "segment": "No segment", "owner": "No owner"}

CONTACT_COLUMNS = [
    "contact_id",
    "account_id",
    "category",
    "reason",
    "rule",
    "last",
    "prev",
    "delta",
    "n",
    "silent_streak",
    "invited",
    "key_person",
    "influence",
    "last_wave_id",
]
GROUP_COLUMNS = [
    "dimension",
    "key",
    "label",
    "people",
    "counts",
    "previous_counts",
    "weighted_score",
    "weight",
    "participation",
    "answered",
    "invited",
    "pockets",
    "supports",
    "call_list",
]
SCORE_TEXT = np.array([str(i) for i in range(11)], dtype=object)


@dataclass(frozen=True)
class Thresholds:
    """Every number of the rules, from `settings.CHANGE_MAP` (see config/settings.py)."""

    silent_streak: int
    falling_delta: int
    rising_delta: int
    key_person_last_max: int
    angel_min: int
    key_roles: tuple[str, ...]
    key_influence_min: int
    unknown_influence: int
    pocket_mean_max: float
    support_mean_min: float
    group_min_answered: int
    list_max: int

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Thresholds:
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(f"CHANGE_MAP lacks {', '.join(missing)}")
        chosen = {name: values[name] for name in names}
        chosen["key_roles"] = tuple(chosen["key_roles"])
        return cls(**chosen)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls.from_mapping(settings.CHANGE_MAP)


@dataclass(frozen=True)
class ChangeMapInputs:
    invitations: pd.DataFrame
    contacts: pd.DataFrame
    accounts: pd.DataFrame | None = None
    role_labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ChangeMap:
    """`contacts`: one row per (wave_id, contact_id), CONTACT_COLUMNS plus previous_category.
    `groups`: one row per (wave_id, dimension, key), GROUP_COLUMNS."""

    waves: pd.DataFrame
    contacts: pd.DataFrame
    groups: pd.DataFrame


@dataclass(frozen=True)
class Prepared:
    waves: pd.DataFrame  # wave_id, wave_opens_on, wave_name, phrase, until; index = position
    # Invitation rows sorted by (contact, position):
    contact_id: np.ndarray
    position: np.ndarray
    score: np.ndarray
    in_history: np.ndarray
    # Contacts sorted by contact_id:
    contacts: pd.DataFrame


def role_label(code: str, role_labels: Mapping[str, str] | None = None) -> str:
    """A buying role's label: from `role_labels` (the BuyingRole table), else from its code."""
    if role_labels and code in role_labels:
        return role_labels[code]
    return code.replace("_", " ").capitalize()


def wave_phrase(name: str) -> str:
    """How a sentence names a wave: "the March 2026 pulse"."""
    return name if name.lower().startswith("the ") else f"the {name}"


def wave_order(invitations: pd.DataFrame) -> pd.DataFrame:
    """The waves in `invitations`, oldest first (opening date, then id); index = position."""
    if invitations.empty:
        return pd.DataFrame(
            {"wave_id": [], "wave_opens_on": [], "wave_name": [], "phrase": [], "until": []}
        )
    first = invitations["wave_id"].reset_index(drop=True).drop_duplicates().index
    waves = invitations.iloc[first][["wave_id", "wave_opens_on", "wave_name"]].copy()
    waves["wave_opens_on"] = pd.to_datetime(waves["wave_opens_on"])
    waves = waves.sort_values(["wave_opens_on", "wave_id"], kind="stable").reset_index(drop=True)
    waves["wave_id"] = waves["wave_id"].astype("int64")
    waves["phrase"] = [wave_phrase(str(name)) for name in waves["wave_name"]]
    # A map as of a wave stands until the next one opens: who had left by then has departed.
    waves["until"] = waves["wave_opens_on"].shift(-1)
    return waves


def key_people(contacts: pd.DataFrame, thresholds: Thresholds, role_labels=None) -> pd.DataFrame:
    """`key_person` and `who` ("Decision maker", "Key person (influence 4/5)") per contact."""
    exploded = contacts[["contact_id", "roles"]].explode("roles")
    rank = {code: i for i, code in enumerate(thresholds.key_roles)}
    exploded["rank"] = exploded["roles"].map(rank)
    key_roles = exploded.dropna(subset=["rank"]).sort_values(["contact_id", "rank"])
    first_role = key_roles.drop_duplicates("contact_id").set_index("contact_id")["roles"]
    influence = pd.to_numeric(contacts["influence"], errors="coerce")
    by_influence = (influence >= thresholds.key_influence_min).to_numpy()
    role = contacts["contact_id"].map(first_role)
    has_role = role.notna().to_numpy()
    labels = {code: role_label(code, role_labels) for code in thresholds.key_roles}
    who = np.full(len(contacts), "", dtype=object)
    who[has_role] = role[has_role].map(labels).to_numpy()
    only_influence = by_influence & ~has_role
    who[only_influence] = (
        "Key person (influence " + as_text(influence[only_influence].to_numpy()) + "/5)"
    )
    return pd.DataFrame({"key_person": has_role | by_influence, "who": who}, index=contacts.index)


def prepare(inputs: ChangeMapInputs, thresholds: Thresholds) -> Prepared:
    invitations, contacts = inputs.invitations, inputs.contacts
    contacts = contacts.sort_values("contact_id", kind="stable").reset_index(drop=True)
    known = np.isin(invitations["contact_id"].to_numpy(), contacts["contact_id"].to_numpy())
    if not known.all():
        invitations = invitations[known]
    waves = wave_order(invitations)
    position = pd.Index(waves["wave_id"]).get_indexer(invitations["wave_id"].to_numpy())
    contact_id = invitations["contact_id"].to_numpy(dtype="int64")
    score = invitations["score"].to_numpy(dtype="float64", na_value=np.nan)
    answered = ~np.isnan(score)
    bad = answered & ((score < 0) | (score > 10) | (score != np.round(score)))
    if bad.any():
        raise ValueError(f"Scores are whole numbers from 0 to 10, not {score[bad][0]}")
    responded = (
        invitations["responded"].to_numpy(dtype=bool) if "responded" in invitations else answered
    )
    pending = (
        invitations["pending"].to_numpy(dtype=bool)
        if "pending" in invitations
        else np.zeros(len(score), dtype=bool)
    )
    in_history = answered | ~(responded | pending)
    order = np.lexsort((position, contact_id))
    key = key_people(contacts, thresholds, inputs.role_labels)
    left_on = (
        pd.to_datetime(contacts["left_on"])
        if "left_on" in contacts
        else pd.Series(pd.NaT, index=contacts.index, dtype="datetime64[ns]")
    )
    prepared_contacts = pd.DataFrame(
        {
            "contact_id": contacts["contact_id"].to_numpy(dtype="int64"),
            "account_id": contacts["account_id"].to_numpy(),
            "is_left": (contacts["status"] == LEFT).to_numpy(),
            "left_on": left_on.to_numpy(),
            "influence": pd.to_numeric(contacts["influence"], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            ),
            "key_person": key["key_person"].to_numpy(),
            "who": key["who"].to_numpy(),
        }
    )
    return Prepared(
        waves=waves,
        contact_id=contact_id[order],
        position=position[order],
        score=score[order],
        in_history=in_history[order],
        contacts=prepared_contacts,
    )


def as_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers (>= 0) as text, elementwise, as an object array for concatenation."""
    whole = np.asarray(values).astype("int64")
    if not len(whole):
        return np.empty(0, dtype=object)
    if whole.max() <= 10:
        return SCORE_TEXT[whole]
    return np.array([str(i) for i in range(whole.max() + 1)], dtype=object)[whole]
