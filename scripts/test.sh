#!/usr/bin/env bash
# One command: install the workbench with its test extras and Chromium, then run the whole suite
# (unit, app, browser and JupyterLab tests). Extra arguments go to pytest.
EXTRAS="[test]"
source "$(dirname "$0")/_setup.sh"

if ! command -v chromium >/dev/null; then
  echo "==> installing Debian's Chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "==> ruff"
"$VENV/bin/ruff" check workbench tests benchmarks
echo "==> pytest"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests — that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
