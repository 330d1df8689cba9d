"""Settings for the survey-throughput benchmark's gunicorn: the real ones, plus the floor's URL.

The survey pages are rate-limited per address (pulses/views/survey.py RATES: 10 POSTs a minute);
every benchmark request comes from 127.0.0.1, so the limit is switched off here, and the results
note says so.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench._web_urls"
RATELIMIT_ENABLE = False
