# ninja_bridge as a container: `docker build -t ninja-bridge .`
# Configure with NINJA_BRIDGE_* environment variables (see README "Operating ninja_bridge"),
# e.g. docker run -e NINJA_BRIDGE_UPSTREAM=https://invoicing.example.com -p 8000:8000 ninja-bridge
ARG PYTHON_IMAGE=python:3.11-slim

# -- build: the project's wheel, then wheels of its dependencies at the pinned versions ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY mappings ./mappings
# The `postgres` extra too: replicas of a fleet share their id map in PostgreSQL.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --constraint constraints.txt --wheel-dir /wheels "$(ls /wheels/ninja_bridge-*.whl)[postgres]"

# -- run: the wheels installed, nothing else from the source tree ---------------------------------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels "ninja-bridge[postgres]" \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ninja-bridge
# Listen on every interface inside the container; log JSON lines for the log collector.
ENV NINJA_BRIDGE_HOST=0.0.0.0 \
    NINJA_BRIDGE_PORT=8000 \
    NINJA_BRIDGE_LOG_FORMAT=json
USER 10001
EXPOSE 8000
# slim has no curl: ask /healthz with the Python that is there anyway
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NINJA_BRIDGE_PORT', '8000'), timeout=3)"]
# SIGTERM (the default stop signal) fails readiness, lets in-flight requests finish within
# NINJA_BRIDGE_SHUTDOWN_GRACE seconds, then exits 0: give `docker stop -t` / compose's
# stop_grace_period a few seconds more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ninja-bridge"]
CMD ["serve"]
