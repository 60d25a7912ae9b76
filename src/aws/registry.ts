/**
 * The Docker Registry HTTP API v2 calls `smkit push` needs to check what it pushed: the manifest by
 * tag, the image config blob, and (to fix an OCI index) a manifest PUT.
 */
import { createHash } from 'node:crypto';
import { SmkitError } from '../util/errors.js';

/** Docker v2 schema 2: the manifest SageMaker accepts. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPT = [DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX].join(', ');

/** Where the registry is and how to authenticate (ECR: Basic with the authorization token). */
export interface RegistryAccess {
  /** `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com` or `http://127.0.0.1:5000`. */
  readonly base: string;
  readonly authorization?: string;
}

/** A manifest as stored, with its bytes and digest. */
export interface StoredManifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Buffer;
  readonly json: {
    mediaType?: string;
    config?: { digest: string };
    manifests?: { mediaType: string; digest: string; platform?: { architecture?: string; os?: string } }[];
  };
}

async function get(access: RegistryAccess, url: string, accept?: string): Promise<Response> {
  try {
    return await fetch(`${access.base}${url}`, {
      headers: {
        ...(accept ? { accept } : {}),
        ...(access.authorization ? { authorization: access.authorization } : {}),
      },
    });
  } catch (error) {
    throw new SmkitError(`cannot reach the registry ${access.base}: ${(error as Error).message}`);
  }
}

/** Reads the manifest `reference` (tag or digest) of `repository`. */
export async function readManifest(
  access: RegistryAccess,
  repository: string,
  reference: string,
): Promise<StoredManifest> {
  const reply = await get(access, `/v2/${repository}/manifests/${reference}`, ACCEPT);
  if (!reply.ok) {
    throw new SmkitError(
      `the registry answered ${reply.status} for ${repository}:${reference}: ${(await reply.text()).slice(0, 200)}`,
    );
  }
  const bytes = Buffer.from(await reply.arrayBuffer());
  const json = JSON.parse(bytes.toString('utf8')) as StoredManifest['json'];
  const mediaType = json.mediaType ?? reply.headers.get('content-type')?.split(';')[0] ?? '';
  const digest =
    reply.headers.get('docker-content-digest') ??
    `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { mediaType, digest, bytes, json };
}

/** True for a multi-platform index (what buildx writes with provenance), which SageMaker refuses. */
export function isIndex(manifest: StoredManifest): boolean {
  return manifest.mediaType === OCI_INDEX || manifest.mediaType === DOCKER_LIST;
}

/** The image config's `os` and `architecture`. */
export async function readImagePlatform(
  access: RegistryAccess,
  repository: string,
  manifest: StoredManifest,
): Promise<{ os: string; architecture: string }> {
  const digest = manifest.json.config?.digest;
  if (!digest) throw new SmkitError(`${repository}: the manifest names no image config`);
  const reply = await get(access, `/v2/${repository}/blobs/${digest}`);
  if (!reply.ok) throw new SmkitError(`the registry answered ${reply.status} for the image config ${digest}`);
  const config = (await reply.json()) as { os?: string; architecture?: string };
  return { os: config.os ?? 'unknown', architecture: config.architecture ?? 'unknown' };
}

/**
 * Replaces an index under `tag` by its one image manifest for `architecture` (attestation entries,
 * platform `unknown`, are dropped), so the tag resolves to a single-image manifest.
 */
export async function replaceIndex(
  access: RegistryAccess,
  repository: string,
  tag: string,
  index: StoredManifest,
  architecture: string,
): Promise<StoredManifest> {
  const image = index.json.manifests?.find(
    (m) => m.platform?.architecture === architecture && m.platform?.os === 'linux',
  );
  if (!image) {
    throw new SmkitError(
      `${repository}:${tag} is an index without a linux/${architecture} image; rebuild with \`docker build --provenance=false --platform linux/${architecture}\``,
    );
  }
  const single = await readManifest(access, repository, image.digest);
  const reply = await fetch(`${access.base}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: {
      'content-type': single.mediaType,
      ...(access.authorization ? { authorization: access.authorization } : {}),
    },
    body: single.bytes,
  });
  if (!reply.ok)
    throw new SmkitError(
      `could not re-tag ${repository}:${tag} to its ${architecture} manifest: HTTP ${reply.status}`,
    );
  return readManifest(access, repository, tag);
}
