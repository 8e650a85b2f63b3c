#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) so LiteRT's GPU accelerator runs on a
# machine without a GPU. Debian bookworm's own Mesa 22.x lavapipe is refused by Dawn
# ("shaderUniform*ArrayDynamicIndexing required"); bookworm-backports has Mesa 25.x.
# Idempotent: reruns only re-check. Needs root (or sudo). Timings on it are software-emulated.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then exec sudo "$0" "$@"; fi

if [ ! -r /etc/debian_version ] || ! grep -q '^12' /etc/debian_version; then
  echo "setup_gpu_sw.sh: written for Debian 12 (bookworm); install Mesa >= 23 lavapipe yourself" >&2
  exit 1
fi

BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.list

# Reuse the mirror apt already uses (deb822 .sources or one-line .list), so offline mirrors work.
mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hsE '^deb .*bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
                         | grep -v security | head -n1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! grep -qsr 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb $(mirror) bookworm-backports main" > "$BACKPORTS_LIST"
  echo "added $(cat "$BACKPORTS_LIST")"
fi

installed_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | cut -d. -f1; }

if [ "$(installed_major)" != "" ] && [ "$(installed_major)" -ge 23 ] && dpkg -s libvulkan1 >/dev/null 2>&1; then
  echo "lavapipe already installed: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
else
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
    mesa-vulkan-drivers libvulkan1
  # vulkaninfo lets the bench label the device; optional, so a failure here is not fatal.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq vulkan-tools || true
fi

ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null
echo "lavapipe ready. LiteRT's GPU accelerator also needs XDG_RUNTIME_DIR set (bench sets it)."
