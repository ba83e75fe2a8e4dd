# Tessera under gunicorn. Configure with TESSERA_* variables (see README); in production at
# least TESSERA_ENV=production, TESSERA_SECRET_KEY, TESSERA_ISSUER and TESSERA_DATABASE_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TESSERA_BIND=0.0.0.0:8000

RUN useradd --system --create-home --home-dir /srv/tessera --uid 10001 tessera
WORKDIR /srv/tessera

COPY pyproject.toml README.md wsgi.py ./
COPY app app
COPY config config
COPY templates templates
COPY static static
COPY migrations migrations
# Editable, so templates, static files and migrations are read from this directory.
RUN pip install -e . && mkdir -p instance && chown -R tessera:tessera instance

USER tessera
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"

CMD ["sh", "-c", "tessera db upgrade && exec gunicorn -c config/gunicorn.conf.py wsgi:app"]
