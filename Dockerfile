# The Slack app in a small image: python -m bot serve on $PORT, the store on the /app/data volume.
#   docker build -t mistral-news .
#   docker run -d --name mistral-news --env-file .env -p 3000:3000 -v mistral-news-data:/app/data mistral-news
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY search ./search
RUN pip install . && useradd --create-home --uid 10001 bot && mkdir -p /app/data && chown bot /app/data
COPY seeds ./seeds

# The SQLite store (DATABASE_URL's default, sqlite:///data/bot.db) lives here: mount a persistent volume.
VOLUME ["/app/data"]
USER bot
EXPOSE 3000

# /healthz answers 503 when a part (store, Slack, watcher) is broken: urlopen then raises, and the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

CMD ["python", "-m", "bot", "serve"]
