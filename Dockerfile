# syntax=docker/dockerfile:1
# Beacon as a container: a replica that serves an index from object storage (BEACON_INDEX_URL) or
# from a read-only volume, and the same image runs 'beacon build --publish-to' for the curators.
# docs/deploy.md walks through it. Build:  docker build -t beacon:0.1.0 .
#                                           docker build --build-arg EXTRAS=s3 -t beacon:0.1.0-s3 .
# Deploy the pushed image by its digest (deploy/kubernetes/kustomization.yaml), not by the tag.

# By digest as well as tag: a tag can be moved to other contents, a digest cannot, and a build whose
# digest does not match fails instead of using something else. This is the digest of the tag's
# multi-architecture index as other public projects pin it (it could not be read from Docker Hub
# here); move tag and digest together (docs/deploy.md, "Images by digest").
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# --- build: a virtual environment with CPU-only torch and Beacon -----------------------------
FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/beacon
WORKDIR /src
# torch first, from the CPU wheel index: PyPI's default Linux wheel pulls several GB of CUDA.
RUN /opt/beacon/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY ingest ./ingest
COPY index ./index
COPY service ./service
RUN /opt/beacon/bin/pip install ".${EXTRAS:+[$EXTRAS]}"

# --- runtime: no compiler, no pip cache, a non-root user, the model and its ONNX export baked in --
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 beacon \
    && useradd --system --uid 10001 --gid beacon --home-dir /home/beacon --create-home beacon \
    && mkdir -p /var/lib/beacon/index \
    && chown -R beacon:beacon /var/lib/beacon
COPY --from=build /opt/beacon /opt/beacon
ENV PATH=/opt/beacon/bin:$PATH \
    HOME=/home/beacon \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    PYTHONUNBUFFERED=1 \
    BEACON_HOST=0.0.0.0 \
    BEACON_PORT=8000 \
    BEACON_INDEX_DIR=/var/lib/beacon/index \
    BEACON_CORPUS_DIR=/var/lib/beacon/corpus
USER beacon
WORKDIR /home/beacon
# Verify the bundled weights and export them to ONNX (fp32 and int8) now, at build time, so a
# container starts in seconds and never needs the network.
RUN python -c "from index import Embedder; Embedder(backend='onnx'); Embedder(backend='onnx-int8')"
EXPOSE 8000
# Readiness (loaded and warmed, not draining); Kubernetes uses its own probes (deploy/kubernetes).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
ENTRYPOINT ["beacon"]
# With BEACON_INDEX_URL set, serve mirrors object storage and never builds; without it, it serves
# the index mounted at BEACON_INDEX_DIR as it is (--no-build).
CMD ["serve", "--no-build", "--workers", "2"]
