# Rapport production image: one image for web (gunicorn), worker and beat.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint needs Pango; fonts make the PDFs look the same everywhere; kaleido drives Chromium
# to draw the reports' charts (CHROMIUM=/usr/bin/chromium).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-liberation curl chromium \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY config ./config
COPY core ./core
COPY accounts ./accounts
COPY contacts ./contacts
COPY pulses ./pulses
COPY changemaps ./changemaps
COPY actions ./actions
COPY reports ./reports
# The pinned versions (requirements.lock, `make lock`), then the project without re-resolving.
RUN pip install -r requirements.lock \
 && pip install --no-deps .
COPY . .

# Static files are collected at build time and served by WhiteNoise.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
 && useradd --system --uid 1000 --home /app rapport \
 && mkdir -p /app/var && chown -R rapport /app/var

USER rapport
ENV STATIC_ROOT=/app/staticfiles RAPPORT_VAR_DIR=/app/var CHROMIUM=/usr/bin/chromium
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
