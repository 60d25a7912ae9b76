/** Names shared by the system tests' global setup and the tests. */
import os from 'node:os';

const arch = os.arch() === 'arm64' ? 'arm64' : 'amd64';

/** The registry-free base built by scripts/build-offline-base.sh. */
export const BASE_IMAGE = `smkit-base:node24-bookworm-${arch}`;
/** The smkit image under test. */
export const SMKIT_IMAGE = 'smkit:system-test';
/** The registry-free linux/arm64 base (scripts/build-offline-base.sh --arch arm64, under qemu). */
export const ARM64_BASE_IMAGE = 'smkit-base:node24-bookworm-arm64';
/** The smkit image cross-built with `--platform linux/arm64` (test/system/arm64.test.ts). */
export const SMKIT_ARM64_IMAGE = 'smkit:system-test-arm64';
/** The smkit image built with `--build-arg SMKIT_USER=node` (non-root, uid 1000). */
export const SMKIT_NONROOT_IMAGE = 'smkit:system-test-nonroot';
/** Label on every container the tests start, so teardown removes exactly those. */
export const CONTAINER_LABEL = 'smkit-system-test=1';
