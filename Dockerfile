# One image for every Warmline service: the migration step, web, worker and
# beat differ only in their command (see docker-compose.yml).
#
# The build stage turns pyproject.toml's dependencies into wheels, so the
# runtime stage needs no compiler and installs nothing from the network.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY warmline warmline
COPY connectors connectors
COPY matcher matcher
COPY reminders reminders
COPY web web
# NOTE: the "worker" extra (Celery with Redis) must exist in pyproject.toml;
# pip only warns about an unknown extra, and the worker would then fail at
# start with "Celery is not installed".
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,worker]"

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels \
        "warmline[postgres,worker]" \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 warmline \
    && mkdir -p /var/lib/warmline \
    && chown warmline /var/lib/warmline
USER warmline
WORKDIR /var/lib/warmline
ENV PYTHONUNBUFFERED=1
CMD ["warmline", "--help"]
