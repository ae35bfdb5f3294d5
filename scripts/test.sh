#!/usr/bin/env bash
# Install the test dependencies into a virtualenv keyed on the dependency spec
# (reused while pyproject.toml's dependencies are unchanged), then run every test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
SPEC="$("$PY" - "$ROOT/pyproject.toml" <<'PYEOF'
import sys
try:
    import tomllib
except ImportError:  # Python 3.10: the TOML reader pip vendors
    from pip._vendor import tomli as tomllib
p = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(sorted(p["dependencies"] + p["optional-dependencies"]["test"])))
PYEOF
)"
KEY="$(printf '%s\n%s' "$("$PY" -c 'import sys;print(sys.version_info[:2])')" "$SPEC" | sha256sum | cut -c1-16)"
VENV="${FER_VENV_ROOT:-$HOME/.cache/fer-studio/venvs}/$KEY"
if [ ! -f "$VENV/.complete" ]; then
    echo "[test.sh] creating virtualenv $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    printf '%s\n' "$SPEC" > "$VENV/requirements.txt"
    "$VENV/bin/pip" install -q -r "$VENV/requirements.txt"
    touch "$VENV/.complete"
else
    echo "[test.sh] reusing virtualenv $VENV"
fi
# The project itself is installed without dependencies on every run, so the shared
# virtualenv always points at this checkout.
"$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$ROOT"
cd "$ROOT"
"$VENV/bin/lint-imports"
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
# A test that hangs with the GIL held is ended by faulthandler's watchdog (tests/conftest.py),
# which writes every thread's stack to this file; print it when the session ends that way.
export FER_TEST_HANG_FILE="$(mktemp)"
trap 'rm -f "$FER_TEST_HANG_FILE"' EXIT
rc=0
"$VENV/bin/python" -m pytest "$@" || rc=$?
if grep -q "^Thread\|^Current thread" "$FER_TEST_HANG_FILE"; then
    echo "[test.sh] a test hung past its bound; every thread's stack:" >&2
    head -300 "$FER_TEST_HANG_FILE" >&2
    rc=1
fi
exit "$rc"
