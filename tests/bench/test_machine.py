import shutil

from bench.machine import machine_info, vulkan_device


def test_machine_names_the_cpu_and_its_simd_flags():
    machine = machine_info()
    assert machine.cpu and machine.cores >= 1
    flags = open("/proc/cpuinfo").read()
    assert ("avx2" in machine.flags) == (" avx2" in flags)
    assert machine.cpu in machine.summary()


def test_lavapipe_is_recognised_as_software():
    device = vulkan_device()
    if device is not None and "llvmpipe" in device.name:
        assert device.software
    if shutil.which("vulkaninfo") is None and device is not None:
        assert device.name  # from the ICD manifests
