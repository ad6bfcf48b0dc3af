#!/usr/bin/env bash
# Create or update the repo's virtual environment (.venv) with the pinned
# stack of requirements/ and mmookd installed editable with its test extras.
#
# Idempotent: when nothing changed since the last successful run (same
# requirement files, setup.py and Python), it only checks that the stack
# imports and exits in a few seconds.
#
# Usage: bash tools/setup_env.sh [VENV_DIR]      (default: .venv)
# Environment: PYTHON (interpreter to create the venv from, default python3),
#              MAX_JOBS (parallel jobs of the mmcv build, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PYTHON=${PYTHON:-python3}
export MAX_JOBS=${MAX_JOBS:-2}
PY="$VENV/bin/python"
STAMP="$VENV/.mmookd-setup-stamp"
STEPS=6
CURRENT="start"

fail() {
  echo "" >&2
  echo "[setup] FAILED at step: $CURRENT" >&2
  echo "[setup] what to do: $1" >&2
  exit 1
}

step() {  # step NUMBER DESCRIPTION
  CURRENT="$1/$STEPS $2"
  echo "[setup] step $CURRENT"
}

fingerprint() {
  cat requirements/*.txt setup.py tools/setup_env.sh | sha256sum | cut -c1-16
  "$PYTHON" -c 'import sys; print(sys.version)'
}

stack_imports() {
  "$PY" - <<'PYEOF' 2>/dev/null
import mmcv, mmdet, mmengine, torch
from mmcv.ops import MultiScaleDeformableAttention  # noqa: F401
import pkg_resources  # noqa: F401  (mmengine's mmdet:: config lookup)
import mmookd  # noqa: F401
assert mmcv.__version__ == '2.1.0' and mmdet.__version__ == '3.3.0'
assert mmengine.__version__ == '0.10.7'
PYEOF
}

WANT="$(fingerprint)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && stack_imports; then
  echo "[setup] $VENV is up to date (pinned stack imports; nothing to do)"
  exit 0
fi

step 1 "create the virtual environment $VENV with $PYTHON"
command -v "$PYTHON" >/dev/null || fail "install Python 3.8+ (python3) or set PYTHON=/path/to/python"
[ -x "$PY" ] || "$PYTHON" -m venv "$VENV" \
  || fail "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)"

PIP=("$PY" -m pip install --disable-pip-version-check)

step 2 "install torch and the build tools (requirements/build.txt)"
"${PIP[@]}" -q -r requirements/build.txt \
  || fail "pip could not install torch==2.13.0 / setuptools<81; check the package registry is reachable (a CUDA machine: install your CUDA torch first, see README)"

step 3 "install mmengine (requirements/mminstall.txt)"
"${PIP[@]}" -q "$(grep '^mmengine' requirements/mminstall.txt)" \
  || fail "pip could not install mmengine; check the package registry"

step 4 "build mmcv 2.1.0 with ops (about 10 minutes on 2 cores the first time; pip's wheel cache makes later runs fast)"
if "$PY" -c 'import mmcv, sys; from mmcv.ops import MultiScaleDeformableAttention; sys.exit(mmcv.__version__ != "2.1.0")' 2>/dev/null; then
  echo "[setup]   mmcv 2.1.0 with ops already installed"
else
  MMCV_WITH_OPS=1 "${PIP[@]}" --no-build-isolation "$(grep '^mmcv' requirements/mminstall.txt)" \
    || fail "building mmcv failed: it needs gcc/g++ and the Python headers (Debian: apt-get install build-essential python3-dev), torch and setuptools<81 installed first"
fi

step 5 "install mmdet and the runtime/test requirements"
"${PIP[@]}" -q "$(grep '^mmdet' requirements/mminstall.txt)" -r requirements/runtime.txt -r requirements/tests.txt \
  || fail "pip could not install mmdet 3.3.0 or the requirements; check the package registry"

step 6 "install mmookd (editable, with test extras)"
"${PIP[@]}" -q --no-build-isolation -e ".[tests]" \
  || fail "pip install -e . failed; see the error above"

stack_imports || fail "the stack does not import: run $PY -c 'import mmookd' to see why (opencv may need: apt-get install libgl1)"
echo "$WANT" > "$STAMP"
echo "[setup] done: $VENV ready (torch $("$PY" -c 'import torch; print(torch.__version__)'), mmcv 2.1.0, mmdet 3.3.0, mmengine 0.10.7)"
