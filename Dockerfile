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
# The package is installed from /tmp/src, which is then removed: /app holds no source that would shadow it.
COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
COPY handlers /tmp/src/handlers
COPY search /tmp/src/search
# gcc compiles search._native (a query's per-hit loops in C, several times faster than the Python stand-in)
# and is removed in the same layer; the build fails if the extension was not built.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install /tmp/src \
    && python -c "from search import native; assert native.COMPILED, 'search._native was not built'" \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* /tmp/src \
    && useradd --create-home --uid 10001 bot && mkdir -p /app/data && chown bot /app/data
COPY seeds ./seeds

# The SQLite store (DATABASE_URL's default, sqlite:///data/bot.db) lives here: mount a persistent volume.
VOLUME ["/app/data"]
USER bot
EXPOSE 3000

# /healthz answers 503 when a part (store, Slack, watcher) is broken: urlopen then raises, and the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

CMD ["python", "-m", "bot", "serve"]
