# syntax=docker/dockerfile:1

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY aibos ./aibos
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN groupadd --system aibos && useradd --system --gid aibos --home-dir /app aibos
WORKDIR /app
COPY --from=build --chown=aibos:aibos /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    AIBOS_ENV=production \
    AIBOS_HOST=0.0.0.0 \
    AIBOS_PORT=8000
USER aibos
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=2)"]
# aibos serve stops gracefully on SIGTERM within AIBOS_SHUTDOWN_GRACE_SECONDS (see README, Deploy).
STOPSIGNAL SIGTERM
CMD ["aibos", "serve", "--workers", "2", "--forwarded-allow-ips", "*"]
