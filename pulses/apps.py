from django.apps import AppConfig


class PulsesConfig(AppConfig):
    name = "pulses"
    verbose_name = "Pulses"

    def ready(self):
        from contacts.selectors import register_story_source
        from pulses.selectors import pulse_story_events

        register_story_source(pulse_story_events)
