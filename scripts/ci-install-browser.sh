#!/usr/bin/env bash
# Installs Debian's Chromium for the browser system tests (test/system/report.test.ts renders the
# training report headless). Playwright's own browser download cannot work here: playwright-core
# drives /usr/bin/chromium instead. Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
chromium --version
