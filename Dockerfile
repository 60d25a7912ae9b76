# smkit container image: `docker run IMAGE train` / `docker run IMAGE serve`, as SageMaker runs it.
#
#   docker build -t smkit .                                        # local engine (legacy or BuildKit)
#   docker buildx build --provenance=false --platform linux/arm64 -t smkit:arm64 .
#                                     # Docker v2 manifests: SageMaker rejects provenance OCI indexes
#   docker build --network host --build-arg BASE_IMAGE=smkit-base:node24-bookworm-amd64 .
#                                     # no registry: base from scripts/build-offline-base.sh
#   docker build --build-arg SMKIT_ALGORITHM=kmeans -t smkit-kmeans .  # single-algorithm image
#   docker build --build-arg SMKIT_USER=node -t smkit-nonroot .        # non-root (uid 1000)
#
# The toolkit lives in /opt/smkit; /opt/ml belongs to SageMaker and is left alone.
# Few instructions in the final stage: with the legacy builder on vfs-backed engines every
# step copies the whole filesystem (BuildKit, DOCKER_BUILDKIT=1, does not).
ARG BASE_IMAGE=public.ecr.aws/docker/library/node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
# Set by BuildKit/buildx from --platform; the fallback asks the (target-platform) node.
ARG TARGETARCH
WORKDIR /src
# Dependencies first, so a source change reuses this layer. --ignore-scripts: no `prepare` run
# and no install-time downloads (onnxruntime-node's CPU binaries ship inside the package).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error --cache /tmp/npm-cache \
 && rm -rf /tmp/npm-cache /root/.npm
# Compile, drop dev dependencies, prune other platforms' binaries and browser bundles, prove the
# native/wasm parts still load, and move only what runs into /opt/smkit.
COPY . ./
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && bash scripts/prune-node-modules.sh node_modules "${TARGETARCH:-$(node -p process.arch)}" \
 && node -e "require('onnxruntime-node'); require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-wasm')" \
 && mkdir -p /opt/smkit \
 && mv package.json bin dist node_modules /opt/smkit/ \
 && NODE_COMPILE_CACHE=/opt/smkit/.compile-cache node scripts/warm-compile-cache.mjs /opt/smkit

FROM ${BASE_IMAGE}
ARG SMKIT_ALGORITHM=""
ARG SMKIT_USER=root
COPY --from=build /opt/smkit /opt/smkit
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true \
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
