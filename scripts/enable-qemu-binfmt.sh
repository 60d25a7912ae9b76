#!/usr/bin/env bash
# Lets this amd64 machine run linux/arm64 programs (and so build an arm64 base image with
# scripts/build-offline-base.sh --arch arm64, and `docker run --platform linux/arm64` it): installs
# Debian's qemu-user-static and binfmt-support when missing, mounts binfmt_misc, and registers
# qemu-aarch64 with the F flag (the interpreter is opened now, so it also works inside containers
# and chroots). Idempotent: returns at once when qemu-aarch64 is already registered and enabled.
# Needs root (and a kernel that lets this machine mount binfmt_misc). The smkit image build itself
# needs none of this: its build stage runs on the build machine's platform.
#
#   scripts/enable-qemu-binfmt.sh        # exit 0: arm64 programs run; non-zero: the reason on stderr
set -euo pipefail
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64

enabled() { [ -r "$entry" ] && head -n1 "$entry" | grep -qx enabled; }
if enabled; then
  echo "enable-qemu-binfmt: qemu-aarch64 already registered"
  exit 0
fi
if [ "$(uname -m)" = aarch64 ]; then
  echo "enable-qemu-binfmt: this machine is aarch64 already"
  exit 0
fi
if ! command -v update-binfmts >/dev/null 2>&1 || [ ! -e /usr/share/binfmts/qemu-aarch64 ]; then
  echo "enable-qemu-binfmt: installing qemu-user-static and binfmt-support"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || {
    echo "enable-qemu-binfmt: cannot mount binfmt_misc on /proc/sys/fs/binfmt_misc (not root, or the kernel/container forbids it)" >&2
    exit 1
  }
fi
update-binfmts --enable qemu-aarch64 || true
if ! enabled; then
  echo "enable-qemu-binfmt: qemu-aarch64 is not registered after update-binfmts --enable qemu-aarch64" >&2
  exit 1
fi
echo "enable-qemu-binfmt: qemu-aarch64 registered ($(sed -n 's/^interpreter //p' "$entry"))"
