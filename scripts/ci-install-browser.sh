#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser end-to-end test
# (tests/e2e/browser). Idempotent: does nothing when /usr/bin/chromium exists.
# Installs only as root with apt-get; otherwise says why it did not, and the
# browser test then skips with the reason. Called by `make test`.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "ci-install-browser: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ci-install-browser: $CHROMIUM missing and not running as root: not installing (browser test will skip)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-install-browser: $CHROMIUM missing and no apt-get: not installing (browser test will skip)"
    exit 0
fi

echo "ci-install-browser: $CHROMIUM missing: running apt-get update && apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
# A failed install must not hide the rest of the suite: say so loudly; the
# browser test then skips and names the missing binary in pytest's summary.
if apt-get update -q && apt-get install -y -q --no-install-recommends chromium; then
    echo "ci-install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
    echo "ci-install-browser: WARNING: installing chromium failed (exit $?): browser test will skip" >&2
fi
