"""The change-map categories: key, label, colour and meaning, defined once.

Dashboards, PDF reports, the API and exports all take a category's label and colour from here,
so a falling person is the same orange everywhere. The colours are the Okabe–Ito palette (safe
for the common kinds of colour blindness) with a grey and a near-black for the two categories
that say "no current signal". Which rule puts someone in a category is `changemaps.rules`.
"""

from dataclasses import dataclass

from django.db import models


class Category(models.TextChoices):
    DEPARTED = "departed", "Departed"
    TICKING_TIME_BOMB = "ticking_time_bomb", "Ticking time bomb"
    SILENT = "silent", "Silent"
    NEW = "new", "New"
    FALLING = "falling", "Falling"
    RISING = "rising", "Rising"
    ENDURING_ANGEL = "enduring_angel", "Enduring angel"
    STEADY = "steady", "Steady"


@dataclass(frozen=True)
class CategoryStyle:
    key: str
    label: str
    colour: str
    meaning: str


# Display order: what needs attention first. (The rules' precedence is a different order.)
CATEGORIES: tuple[CategoryStyle, ...] = (
    CategoryStyle(
        Category.TICKING_TIME_BOMB.value,
        Category.TICKING_TIME_BOMB.label,
        "#D55E00",
        "A key person who is unhappy or has gone quiet, or anyone sliding three pulses running.",
    ),
    CategoryStyle(
        Category.FALLING.value,
        Category.FALLING.label,
        "#E69F00",
        "Dropped sharply since last time.",
    ),
    CategoryStyle(
        Category.SILENT.value, Category.SILENT.label, "#999999", "Stopped answering, or never has."
    ),
    CategoryStyle(
        Category.DEPARTED.value, Category.DEPARTED.label, "#4D4D4D", "Has left the company."
    ),
    CategoryStyle(
        Category.NEW.value, Category.NEW.label, "#56B4E9", "Answered for the first time."
    ),
    CategoryStyle(
        Category.STEADY.value, Category.STEADY.label, "#CC79A7", "About the same as last time."
    ),
    CategoryStyle(
        Category.RISING.value, Category.RISING.label, "#009E73", "Rose sharply since last time."
    ),
    CategoryStyle(
        Category.ENDURING_ANGEL.value,
        Category.ENDURING_ANGEL.label,
        "#0072B2",
        "Nine or more, three pulses running.",
    ),
)

ORDER: tuple[str, ...] = tuple(style.key for style in CATEGORIES)
LABELS: dict[str, str] = {style.key: style.label for style in CATEGORIES}
COLOURS: dict[str, str] = {style.key: style.colour for style in CATEGORIES}
BY_KEY: dict[str, CategoryStyle] = {style.key: style for style in CATEGORIES}

# Categories that carry no current view of us: left out of weighted scores, pockets and zones.
WITHOUT_CURRENT_VIEW = frozenset({Category.SILENT, Category.DEPARTED})
# Who the account team should call first.
CALL_LIST = frozenset({Category.FALLING, Category.TICKING_TIME_BOMB})

assert set(ORDER) == set(Category.values), "every category needs exactly one style"  # noqa: S101
