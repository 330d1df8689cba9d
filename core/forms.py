from django import forms

from core.services.webhooks import WEBHOOK_EVENTS


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Rapport POSTs each event here, signed; redirects are not followed.",
    )
    description = forms.CharField(max_length=200, required=False, help_text="e.g. “CRM”.")
    events = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, help_text="What it receives."
    )
    secret = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to have one generated (recommended). Shown once either way.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [
            (name, f"{name} — {description}") for name, description in WEBHOOK_EVENTS.items()
        ]
