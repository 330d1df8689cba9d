"""Build the rules' input DataFrames from compact histories, for the change-map tests.

A history lists one entry per wave, oldest first: a score (0–10), None (invited, no answer),
"-" (not invited), "r" (responded without a relationship score) or "p" (invited to a wave that
is still open, no answer yet).
"""

import dataclasses
from datetime import date

import numpy as np
import pandas as pd

from changemaps.rules import Thresholds

MONTHS = ["March", "April", "May", "June", "July", "August", "September", "October"]
WAVES = [(100 + i, date(2025, 3 + i, 1), f"{month} 2025 pulse") for i, month in enumerate(MONTHS)]


def thresholds(**overrides) -> Thresholds:
    """The configured thresholds, some replaced."""
    return dataclasses.replace(Thresholds.from_settings(), **overrides)


def frames(people: dict[int, dict], waves=WAVES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`people`: contact id → {"history": [...], and optionally account_id, status, influence,
    department, roles, left_on}."""
    rows, contacts = [], []
    for contact_id, person in people.items():
        for (wave_id, opens_on, name), entry in zip(waves, person["history"], strict=False):
            if entry == "-":
                continue
            rows.append(
                {
                    "contact_id": contact_id,
                    "wave_id": wave_id,
                    "wave_opens_on": opens_on,
                    "wave_name": name,
                    "score": float(entry) if isinstance(entry, int) else np.nan,
                    "responded": isinstance(entry, int) or entry == "r",
                    "pending": entry == "p",
                }
            )
        contacts.append(
            {
                "contact_id": contact_id,
                "account_id": person.get("account_id", 1),
                "status": person.get("status", "active"),
                "influence": person.get("influence", 3),
                "department": person.get("department", "Operations"),
                "roles": tuple(person.get("roles", ())),
                "left_on": person.get("left_on"),
            }
        )
    columns = ["contact_id", "wave_id", "wave_opens_on", "wave_name", "score", "responded",
               "pending"]  # fmt: skip
    invitations = pd.DataFrame(rows, columns=columns)
    contacts = pd.DataFrame(contacts)
    contacts["influence"] = pd.to_numeric(contacts["influence"], errors="coerce")
    contacts["left_on"] = pd.to_datetime(contacts["left_on"])
    return invitations, contacts
