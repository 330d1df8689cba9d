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

        register_story_source(acknowledgement_story_events)
        register_story_source(action_story_events)
        register_story_source(review_story_events)
        register_story_source(candidate_story_events)
