"""Privacy: attributed feedback is personal data. A person may see it, have it erased, and it is
not kept for ever.

- **Subject access** (`access`) — `contact_subject_access` gathers everything held on one contact
  into a JSON-ready dict (shape: `SUBJECT_ACCESS_SCHEMA`); `contact_subject_access_export` is
  the audited way to hand it out (web and API).
- **Erasure** (`erasure`) — `contact_erase` anonymises a contact everywhere their data was
  copied: profile and its history rows, their answers and whatever quotes them
  (acknowledgements, quotes, candidacies, actions, reviews, the account log), snapshots,
  webhook payloads, stored report PDFs; their links stop working and nothing more is sent to
  them. Scores stay for aggregates unless the administrator chooses otherwise. A second run
  changes nothing and audits nothing.
- **Retention** (`retention`) — `responses_apply_retention` (daily,
  `pulses.tasks.apply_response_retention`) clears the free text of responses older than
  `RAPPORT_RESPONSE_RETENTION_DAYS`; scores stay.

What is kept and why: docs/privacy.md.
"""

from contacts.privacy.access import contact_subject_access, contact_subject_access_export
from contacts.privacy.erasure import Erasure, contact_erase, contact_erasure_scope
from contacts.privacy.retention import responses_apply_retention
from contacts.privacy.schema import SUBJECT_ACCESS_SCHEMA
from contacts.privacy.words import ERASED_TEXT, EXPIRED_TEXT, erased_email, erased_name

__all__ = [
    "ERASED_TEXT",
    "EXPIRED_TEXT",
    "SUBJECT_ACCESS_SCHEMA",
    "Erasure",
    "contact_erase",
    "contact_erasure_scope",
    "contact_subject_access",
    "contact_subject_access_export",
    "erased_email",
    "erased_name",
    "responses_apply_retention",
]
