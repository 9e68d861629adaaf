#!/usr/bin/env bash
# End-to-end tests of the notebook: production build, served locally, driven in Debian's Chromium.
# Needs /usr/bin/chromium (apt-get install -y chromium). Screenshots land in test-results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "test/e2e: no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}; install it with: apt-get install -y chromium" >&2
  exit 1
fi
if [ "${KMODLAB_E2E_SKIP_BUILD:-}" != "1" ]; then
  npx vite build --outDir "${KMODLAB_DIST:-dist}" --logLevel warn
fi
exec npx vitest run -c test/e2e/vitest.config.ts "$@"
