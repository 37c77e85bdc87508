#!/usr/bin/env bash
# One command: install the workbench into .venv, build the demo workspace and open it in the browser.
# Extra arguments go to `workbench demo` (e.g. --port 5007 --no-browser).
source "$(dirname "$0")/_setup.sh"
exec "$VENV/bin/workbench" demo "$@"
