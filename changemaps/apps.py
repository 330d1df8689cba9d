from django.apps import AppConfig


class ChangemapsConfig(AppConfig):
    name = "changemaps"
    verbose_name = "Change maps"

    def ready(self):
        from changemaps.services import CATEGORY_CHANGED
        from core.services.webhooks import webhook_event_register

        webhook_event_register(
            CATEGORY_CHANGED,
            "A person's change-map category changed (e.g. steady → falling) in the latest wave.",
        )
