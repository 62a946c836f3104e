#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system packages, a venv, and kws-nas in it.
# Idempotent: a second call only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts chromium postgresql gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang libfuzzer-14-dev libclang-rt-14-dev libportaudio2)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# SVOX Pico (libttspico-utils) speaks a third of the default dataset's voices (nas/data/synth.py); Debian
# keeps it in the non-free section, enabled here for this release unless KWS_NAS_NO_NON_FREE=1 (the
# dataset then takes espeak-ng voices in their place).
if [ "${KWS_NAS_NO_NON_FREE:-0}" != 1 ] && ! command -v pico2wave >/dev/null; then
  codename=$(. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}" || true)
  if [ -n "$codename" ]; then
    if ! grep -qsE "non-free( |$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
      echo "[bootstrap] enabling Debian's non-free section for SVOX Pico (/etc/apt/sources.list.d/kws-nas-non-free.sources)"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$codename" | $SUDO tee /etc/apt/sources.list.d/kws-nas-non-free.sources >/dev/null
    fi
    APT_PACKAGES+=(libttspico-utils)
  fi
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[bootstrap] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV=${KWS_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating $VENV"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP_LOG="$VENV/pip-install.log"
# pip's output (hundreds of lines, e.g. "WARNING: Location ... is ignored") goes to a log file that is
# shown only when pip fails.
pip_quietly() {
  if ! "$PY" -m pip install --disable-pip-version-check "$@" >>"$PIP_LOG" 2>&1; then
    echo "[bootstrap] pip install $* failed; its log ($PIP_LOG):" >&2
    tail -n 60 "$PIP_LOG" >&2
    exit 1
  fi
}
# An older venv lacking a later dependency (submitit, optuna_dashboard, sounddevice) is completed the same way.
if ! "$PY" -c "import nas, torch, tensorflow, optuna, submitit, optuna_dashboard, sounddevice" 2>/dev/null; then
  echo "[bootstrap] installing Python packages (first run: a few minutes; log in $PIP_LOG)"
  : >"$PIP_LOG"
  pip_quietly --upgrade pip
  # torch first, from the CPU wheel; the constraints file then holds it for everything after.
  pip_quietly torch==2.13.0
  pip_quietly -c constraints.txt -e ".[dev]"
fi
echo "[bootstrap] ready: $VENV"
