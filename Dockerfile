# frontwatch: the bot, built in one stage and run from a slim image as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md rules.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY examples ./examples
RUN python -m venv /opt/frontwatch \
 && /opt/frontwatch/bin/pip install --no-cache-dir . \
 && FRONTWATCH_CACHE_DIR=/opt/frontwatch/cache /opt/frontwatch/bin/frontwatch check-rules /src/rules.yaml

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 frontwatch
COPY --from=build /opt/frontwatch /opt/frontwatch
ENV PATH=/opt/frontwatch/bin:$PATH \
    FRONTWATCH_CACHE_DIR=/opt/frontwatch/cache \
    RULES_PATH=/config/rules.yaml \
    PYTHONUNBUFFERED=1
USER frontwatch
WORKDIR /home/frontwatch
# The gazetteer cache built above is keyed by the gazetteer settings: a rules.yaml with the same
# gazetteer section starts in half a second.
CMD ["frontwatch", "run"]
