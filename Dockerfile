# The one image for every process of docker-compose.yml (web, worker, beat, tunnel, migrate).
# Only the dependencies pinned in pyproject.toml are installed; the code runs from /app.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# An unprivileged user; .data/ holds the beat schedule and tunnel keys when mounted.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/.data /app/staticfiles \
    && chown app /app/.data
USER app

EXPOSE 8000
CMD ["gunicorn", "-c", "python:ops.gunicorn_conf", "config.asgi:application"]
