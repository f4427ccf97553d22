# syntax=docker/dockerfile:1
# One image for both roles:
#   docker run IMAGE gateway --host 0.0.0.0        (the default command)
#   docker run IMAGE worker --bot samples.echo:bot
# Bots of your own: build FROM this image and COPY your package in (docs/kubernetes.md).
# Without Docker, or where no registry answers: python3 tools/build_image.py (buildah, decision 0023).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install turnstream and its dependencies into a virtualenv --------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# binutils' strip, for the wheels' debug symbols below (not in the runtime stage).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils \
       >/dev/null \
    && python -m venv /opt/turnstream
WORKDIR /src
# Every dependency ships wheels for CPython 3.11 on linux amd64/arm64, so no compiler is needed
# here either; a platform without wheels fails this step instead of shipping a half-built image.
# The versions are the lock's, hashes checked (decision 0015); turnstream itself is built by the
# locked setuptools, without build isolation.
COPY requirements/turnstream.txt requirements/
RUN /opt/turnstream/bin/pip install --require-hashes --only-binary=:all: \
        -r requirements/turnstream.txt
COPY pyproject.toml README.md ./
COPY shared/ shared/
COPY gateway/ gateway/
COPY worker/ worker/
COPY turnstream/ turnstream/
# Lean at run time: pip and setuptools only build (the processes never import them), and some
# wheels' extension modules carry their debug symbols (uvloop's alone is 10 MB of them; 23 MB in
# all), which a traceback never uses.
RUN /opt/turnstream/bin/pip install --no-deps --no-build-isolation . \
    && /opt/turnstream/bin/pip uninstall -q -y pip setuptools \
    && find /opt/turnstream -name '*.so' -exec strip --strip-debug {} + \
    && /opt/turnstream/bin/python -m compileall -q /opt/turnstream/lib
# The example bots (not part of the distribution, 0.2 MB) in the image's working directory, where
# `--bot samples.echo:bot` finds them: the base manifests run the echo bot (k8s/base/worker),
# so a fresh cluster answers before you add a bot. A bot image of your own puts its modules
# there too.
COPY samples/ /app/samples/

# --- runtime: the virtualenv only, as an unprivileged user -------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a numeric USER, and the
# manifests' runAsUser (k8s/base/*) names the same one.
RUN groupadd --system --gid 10001 turnstream \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin turnstream
COPY --from=build /opt/turnstream /opt/turnstream
COPY --from=build /app /app
ENV PATH=/opt/turnstream/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The root filesystem is read-only in the pod: nothing is written outside /tmp (an emptyDir).
# --bot looks for its module in the working directory first (--app-dir).
WORKDIR /app
USER 10001:10001
# 3978: the gateway (API, health, /metrics); 9478: a worker's /metrics and /healthz.
EXPOSE 3978 9478
ENTRYPOINT ["turnstream"]
CMD ["gateway", "--host", "0.0.0.0", "--port", "3978"]
