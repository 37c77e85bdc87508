#!/usr/bin/env bash
# Regenerate the README's screenshots (docs/screenshots/) from the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKBENCH_SCREENSHOTS=1 .venv/bin/python -m pytest -m ui tests/ui "$@"
