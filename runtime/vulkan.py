"""Which Vulkan device LiteRT's GPU accelerator (WebGPU over Vulkan) will get, and whether it is
software (lavapipe): a software "GPU" runs the graph but its timings are CPU timings."""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
import subprocess


@dataclasses.dataclass(frozen=True)
class VulkanDevice:
    name: str
    software: bool  # lavapipe/llvmpipe or SwiftShader: the "GPU" is the CPU


_SOFTWARE_MARKS = ("llvmpipe", "lavapipe", "swiftshader", "PHYSICAL_DEVICE_TYPE_CPU")


def _from_vulkaninfo() -> VulkanDevice | None:
    try:
        out = subprocess.run(["vulkaninfo", "--summary"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("deviceName", "deviceType", "driverName"):
            fields.setdefault(key.strip(), value.strip())  # first device: the one Dawn picks
    if "deviceName" not in fields:
        return None
    return VulkanDevice(fields["deviceName"],
                        any(m.lower() in " ".join(fields.values()).lower() for m in _SOFTWARE_MARKS))


def _icd_files() -> list[str]:
    env = os.environ.get("VK_ICD_FILENAMES") or os.environ.get("VK_DRIVER_FILES")
    if env:
        return env.split(os.pathsep)
    dirs = ("/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d")
    return sorted(p for d in dirs for p in glob.glob(os.path.join(d, "*.json")))


def _from_icd_files() -> VulkanDevice | None:
    """Without vulkaninfo: the installed drivers (ICD manifests) tell software from hardware."""
    libs = []
    for path in _icd_files():
        try:
            with open(path) as f:
                libs.append(json.load(f)["ICD"]["library_path"])
        except (OSError, ValueError, KeyError):
            continue
    if not libs:
        return None
    hardware = [lib for lib in libs if "lvp" not in lib and "swiftshader" not in lib.lower()]
    if hardware:
        return VulkanDevice(f"Vulkan driver {os.path.basename(hardware[0])}", software=False)
    return VulkanDevice("lavapipe (software Vulkan, from its ICD manifest)", software=True)


def vulkan_device() -> VulkanDevice | None:
    """The Vulkan device, or None when no Vulkan driver is installed."""
    if shutil.which("vulkaninfo"):
        device = _from_vulkaninfo()
        if device is not None:
            return device
    return _from_icd_files()
