# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtualenv in .venv with the package installed.
# Needs Python >= 3.10 and Node >= 20 (the JupyterLab extension is built from source on install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
VENV="${WORKBENCH_VENV:-.venv}"

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "error: Python >= 3.10 is needed (found $("$PYTHON" --version))" >&2; exit 2; }
command -v node >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
  || { echo "error: Node.js >= 20 is needed to build the JupyterLab extension (apt-get install nodejs npm)" >&2; exit 2; }

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
echo "==> installing mlops-workbench${EXTRAS:-} into $VENV"
set +e
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:-}" 2>&1 \
  | grep -v "^WARNING: Location .* is ignored"
pip_status=${PIPESTATUS[0]}
set -e
[ "$pip_status" -eq 0 ] || { echo "error: pip could not install the workbench (see above)" >&2; exit 1; }
