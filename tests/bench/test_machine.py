import pytest

from bench.machine import machine_info
from runtime.vulkan import vulkan_device


def test_machine_names_the_cpu_and_its_simd_flags():
    machine = machine_info()
    assert machine.cpu and machine.cores >= 1
    flags = open("/proc/cpuinfo").read()
    assert ("avx2" in machine.flags) == (" avx2" in flags)
    assert machine.cpu in machine.summary()


def test_a_vulkan_device_is_named_and_lavapipe_is_recognised_as_software():
    device = vulkan_device()
    if device is None:
        pytest.skip("no Vulkan device here (make bench-gpu-sw installs lavapipe)")
    assert device.name  # from vulkaninfo, or the ICD manifests without it
    assert device.software == any(s in device.name.lower() for s in ("llvmpipe", "lavapipe", "swiftshader"))
