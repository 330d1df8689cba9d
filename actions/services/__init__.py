"""Closing-the-loop workflows, one module per area.

- ``acknowledgements``: the 48-hour acknowledgement of every response, replies, the sweeper;
- ``acknowledgement_emails``: composing and sending that workflow's emails, exactly once each.
"""
