#!/usr/bin/env bash
# auth_saml against the local pysaml2 IdP and the attack kit (shim/acceptance/saml/).
# Needs: libxmlsec1-dev libxml2-dev pkg-config clang (build), xmlsec1 + python3.11 (the IdP).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
cargo build -q --release -p auth_saml --example saml_cli
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/build/saml-venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3.11 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r shim/acceptance/saml/requirements.txt
fi
exec "$VENV/bin/python" saml/tests/drive.py "$TARGET/release/examples/saml_cli"
