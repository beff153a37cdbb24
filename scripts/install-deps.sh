#!/usr/bin/env bash
# Install what hatui and its lab need, only what is missing: Debian packages (apt-get) and the
# Python package itself with its test extras (pip).  Services are not started by the packages:
# the lab starts its own, inside its namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    # keep the packages' own services from starting on the host (Docker-style policy-rc.d)
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
PY=${PYTHON:-python3}
# Debian's own python3 refuses a system-wide pip install (PEP 668) unless told; a pyenv or venv python ignores this
export PIP_BREAK_SYSTEM_PACKAGES=1
"$PY" -m pip install -q --disable-pip-version-check -c scripts/constraints.txt -e '.[test]'
# pyenv: make the new `hatui` console script visible on PATH
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
