from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from contacts.selectors import register_story_source
        from reports.selectors.quotes import quote_story_events

        register_story_source(quote_story_events)
