/** Names shared by the system tests' global setup and the tests. */
import os from 'node:os';

const arch = os.arch() === 'arm64' ? 'arm64' : 'amd64';
/**
 * Lets several checkouts on one machine share a Docker engine: SMKIT_TEST_NAMESPACE=x tags the
 * images under test `smkit:system-test-x...` and labels containers `smkit-system-test=x`, so one
 * run's teardown removes only its own. Base images are shared (they are built from the same script).
 */
const namespace = process.env.SMKIT_TEST_NAMESPACE ?? '';
const suffix = namespace ? `-${namespace}` : '';

/** The registry-free base built by scripts/build-offline-base.sh. */
export const BASE_IMAGE = `smkit-base:node24-bookworm-${arch}`;
/** The smkit image under test. */
export const SMKIT_IMAGE = `smkit:system-test${suffix}`;
/** The registry-free linux/arm64 base (scripts/build-offline-base.sh --arch arm64, under qemu). */
export const ARM64_BASE_IMAGE = 'smkit-base:node24-bookworm-arm64';
/** The smkit image cross-built with `--platform linux/arm64` (test/system/arm64.test.ts). */
export const SMKIT_ARM64_IMAGE = `smkit:system-test-arm64${suffix}`;
/** The smkit image built with `--build-arg SMKIT_USER=node` (non-root, uid 1000). */
export const SMKIT_NONROOT_IMAGE = `smkit:system-test-nonroot${suffix}`;
/** Label on every container the tests start, so teardown removes exactly those. */
export const CONTAINER_LABEL = `smkit-system-test=${namespace || '1'}`;
