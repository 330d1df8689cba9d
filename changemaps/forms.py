"""The portfolio's filters: choices come from the accounts the user may see, never a query."""

import pandas as pd
from django import forms

from accounts.models import Account


def _choices(accounts: pd.DataFrame, key: str, label: str, empty: str) -> list[tuple[str, str]]:
    pairs = accounts[[key, label]].dropna().drop_duplicates(key).sort_values([label, key])
    return [("", empty), *((str(int(k)), str(name)) for k, name in pairs.itertuples(index=False))]


class PortfolioFilterForm(forms.Form):
    segment = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    territory = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner")
    tier = forms.ChoiceField(required=False)

    # Form field → the Account field it narrows (see dashboard_selectors.PORTFOLIO_FILTERS).
    FIELDS = {
        "segment": "segment_id",
        "territory": "territory_id",
        "owner": "owner_id",
        "tier": "tier",
    }

    def __init__(self, data=None, *, accounts: pd.DataFrame | None = None, choices=None):
        """Choices from `accounts`, or as an earlier form offered them (`choices`: field name
        → choices, as the cached portfolio keeps them)."""
        super().__init__(data)
        if choices is not None:
            for name, offered in choices.items():
                self.fields[name].choices = offered
            return
        self.fields["segment"].choices = _choices(accounts, "segment_id", "segment", "All segments")
        self.fields["territory"].choices = _choices(
            accounts, "territory_id", "territory", "All territories"
        )
        self.fields["owner"].choices = _choices(accounts, "owner_id", "owner", "All owners")
        tiers = set(accounts["tier"])
        self.fields["tier"].choices = [("", "All tiers")] + [
            (value, label) for value, label in Account.Tier.choices if value in tiers
        ]

    def filters(self) -> dict[str, object]:
        """The chosen filters as Account field → value; an invalid choice is ignored."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            self.FIELDS[name]: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters())
