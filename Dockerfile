# smkit container image: `docker run IMAGE train` / `docker run IMAGE serve`, as SageMaker runs it.
#
#   docker build -t smkit .                                        # local engine (legacy or BuildKit)
#   docker buildx build --provenance=false --platform linux/arm64 -t smkit:arm64 .
#                                     # Docker v2 manifests: SageMaker rejects provenance OCI indexes
#   docker build --network host --build-arg BASE_IMAGE=smkit-base:node24-bookworm-amd64 .
#                                     # no registry: base from scripts/build-offline-base.sh
#   DOCKER_BUILDKIT=1 docker build --network host --platform linux/arm64 \
#     --build-arg BASE_IMAGE=smkit-base:node24-bookworm-arm64 \
#     --build-arg BUILD_BASE_IMAGE=smkit-base:node24-bookworm-amd64 -t smkit:arm64 .
#                                     # cross build from offline bases (one tag per architecture)
#   docker build --build-arg SMKIT_ALGORITHM=kmeans -t smkit-kmeans .  # single-algorithm image
#   docker build --build-arg SMKIT_USER=node -t smkit-nonroot .        # non-root (uid 1000)
#
# The toolkit lives in /opt/smkit; /opt/ml belongs to SageMaker and is left alone.
# Few instructions in the final stage: with the legacy builder on vfs-backed engines every
# step copies the whole filesystem (BuildKit, DOCKER_BUILDKIT=1, does not).
ARG BASE_IMAGE=public.ecr.aws/docker/library/node:24-bookworm-slim
# The build stage's image, for the build machine's architecture: the official image is multi-arch,
# so the default is the same tag; offline bases have one tag per architecture.
ARG BUILD_BASE_IMAGE=${BASE_IMAGE}
# BuildKit sets BUILDPLATFORM; the legacy builder (DOCKER_BUILDKIT=0, engines before 23) does not and
# uses this instead: pass --build-arg LEGACY_BUILD_PLATFORM=linux/arm64 there on an arm64 machine.
ARG LEGACY_BUILD_PLATFORM=linux/amd64

# The build stage runs on the build machine's platform, so a cross build (--platform linux/arm64 on
# an amd64 machine) runs npm and tsc natively, never under emulation: the toolkit is JavaScript and
# wasm, and the only native part, onnxruntime-node, ships prebuilt binaries for every platform.
FROM --platform=${BUILDPLATFORM:-$LEGACY_BUILD_PLATFORM} ${BUILD_BASE_IMAGE} AS build
# Set by BuildKit/buildx from --platform; the fallback (legacy builder) is the node's own arch.
ARG TARGETARCH
ARG BUILDARCH
WORKDIR /src
# Dependencies first, so a source change reuses this layer. --ignore-scripts: no `prepare` run
# and no install-time downloads (onnxruntime-node's CPU binaries ship inside the package).
# --os/--cpu: platform-specific optional packages (piscina's @napi-rs/nice-linux-*) for the target,
# not the build machine; tsc, the only tool the build runs, is plain JavaScript.
COPY package.json package-lock.json .npmrc ./
RUN cpu=$(case "${TARGETARCH:-}" in (amd64) echo x64 ;; ("") node -p process.arch ;; (*) echo "$TARGETARCH" ;; esac) \
 && npm ci --os=linux --cpu="$cpu" --ignore-scripts --no-audit --no-fund --loglevel=error --cache /tmp/npm-cache \
 && rm -rf /tmp/npm-cache /root/.npm
# Compile, drop dev dependencies, prune to the target's onnxruntime binaries and no browser bundles,
# prove the native/wasm parts still load, and move only what runs into /opt/smkit. The native
# binding loads, and the compile cache (bytecode is per architecture) is made, only when the target
# is the build machine's architecture; a cross build checks the JavaScript/wasm parts alone.
COPY . ./
RUN native=$([ "${TARGETARCH:-}" = "${BUILDARCH:-}" ] && echo 1 || true) \
 && cpu=$(case "${TARGETARCH:-}" in (amd64) echo x64 ;; ("") node -p process.arch ;; (*) echo "$TARGETARCH" ;; esac) \
 && npm run build \
 && npm prune --omit=dev --os=linux --cpu="$cpu" --ignore-scripts --no-audit --no-fund --loglevel=error \
 && bash scripts/prune-node-modules.sh node_modules "${TARGETARCH:-$(node -p process.arch)}" \
 && if [ -n "$native" ]; then node -e "require('onnxruntime-node')"; \
    else echo "cross build ${BUILDARCH} -> ${TARGETARCH}: onnxruntime-node not loaded, no compile cache"; fi \
 && node -e "require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-wasm')" \
 && mkdir -p /opt/smkit \
 && mv package.json bin dist node_modules /opt/smkit/ \
 && if [ -n "$native" ]; then \
      NODE_COMPILE_CACHE=/opt/smkit/.compile-cache node scripts/warm-compile-cache.mjs /opt/smkit; fi

# No RUN below: the final stage only copies and configures, so it needs no emulation on any platform.
FROM ${BASE_IMAGE}
ARG SMKIT_ALGORITHM=""
ARG SMKIT_USER=root
COPY --from=build /opt/smkit /opt/smkit
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true \
      com.amazonaws.sagemaker.capabilities.multi-models=true \
      org.opencontainers.image.title="smkit" \
      org.opencontainers.image.description="SageMaker bring-your-own-container toolkit for Node.js" \
      org.opencontainers.image.licenses="Apache-2.0"
# NODE_COMPILE_CACHE: bytecode made at build time (see scripts/warm-compile-cache.mjs) cuts the cold
# start; Node skips writing it when the root filesystem is read-only.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/opt/smkit/.compile-cache \
    SMKIT_ALGORITHM=${SMKIT_ALGORITHM}
USER ${SMKIT_USER}
# Exec form: node is PID 1 and receives SIGTERM itself (no tini: it mishandles train/serve).
ENTRYPOINT ["node", "/opt/smkit/bin/smkit"]
