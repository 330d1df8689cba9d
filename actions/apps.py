from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Actions"

    def ready(self):
        from actions.selectors import (
            acknowledgement_story_events,
            action_story_events,
            candidate_story_events,
            review_story_events,
        )
        from contacts.selectors import register_story_source
        from core.services.webhooks import webhook_event_register

        register_story_source(acknowledgement_story_events)
        register_story_source(action_story_events)
        register_story_source(review_story_events)
        register_story_source(candidate_story_events)
        webhook_event_register("action.completed", "An action was marked as done.")
        webhook_event_register(
            "acknowledgement.overdue",
            "A response was not acknowledged within 48 hours (sent with the escalation).",
        )
