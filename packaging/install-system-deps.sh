#!/usr/bin/env bash
# Installs the system packages Kiln needs on Debian/Ubuntu:
#   - to build: a C compiler and pkg-config (SQLite is compiled from source by rusqlite);
#   - to open the window: X11/Wayland client libraries and OpenGL (Mesa);
#   - for tests and screenshots without a display: Xvfb and xauth.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

packages=(
    build-essential pkg-config
    libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 libwayland-client0
    libgl1 libegl1 libgl1-mesa-dri
    xvfb xauth
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
