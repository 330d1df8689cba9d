"""Pulse workflows, one module per area.

- ``questionnaires``: balanced questionnaires and their frozen versions;
- ``waves``: opening waves, inviting people, reminders and closing (the beat-driven engine);
- ``sending``: composing and sending invitation and reminder emails, exactly once per step;
- ``responses``: answers by link, staff-recorded responses, unsubscribes, mirror-back.
"""
