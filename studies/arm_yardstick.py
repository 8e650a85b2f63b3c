"""python -m studies.arm_yardstick [--also FILE.tflite ...] [--out bench-results/arm_yardstick]:
how far emulated instruction counts go as a phone latency, checked on a model whose phone latency is
published.

EfficientNet-Lite0 (models.tables.LITE0) at 224 px, float32 and int8 (uint8 I/O, calibrated on the
built-in photos), has published Pixel 4 CPU latencies: int8 6.5 ms, float32 12 ms, 4 threads
(tensorflow/tpu, models/official/efficientnet/lite/README.md). Each file is counted on the emulated
Cortex-A76 (1 thread), turned into an estimate by runtime.arm.estimate (IPC, clock, threads; no
memory stalls) and set beside the published figure with their ratio. Files given with --also are
counted and estimated with the same model, so their figures carry the same ratio of trust.

Writes OUT/lite0_{fp32,int8}.tflite, OUT/arm_yardstick.{json,md}. Needs make arm-env.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli import run_command
from core.files import atomic_write

# ms per inference, Pixel 4 CPU, 4 threads (tensorflow/tpu models/official/efficientnet/lite/README.md).
PUBLISHED_MS = {"fp32": 12.0, "int8": 6.5}
SIZE = 224


def lite0_files(out: Path) -> dict[str, Path]:
    """Lite0 at 224 px, batch 1, 1000 classes, as fp32 and int8 .tflite files in `out`."""
    import models
    from convert import recipes
    from models.tables import LITE0, LITE0_ACTIVATION
    from quantize.calibration import builtin_images
    from quantize.parallel import default_workers

    model = models.build(LITE0, input_size=SIZE, activation=LITE0_ACTIVATION, batch_size=1)
    images = builtin_images(SIZE, calibration=100, validation=0).calibration
    files = {}
    for precision in PUBLISHED_MS:
        files[precision] = out / f"lite0_{precision}.tflite"
        atomic_write(files[precision], recipes.convert(model, precision, images, "uint8", default_workers()))
    return files


def study(out: Path, also: list[Path]) -> dict:
    from runtime.arm import default_env, instructions_per_inference as counted
    from runtime.arm.estimate import PIXEL4

    if problem := default_env().problem():
        raise RuntimeError(problem)
    for path in also:
        if not path.is_file():
            raise FileNotFoundError(f"--also {str(path)!r} is not a file; give .tflite files (make tflite writes them)")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for precision, path in lite0_files(out).items():
        instructions = counted(path, PIXEL4.core)
        rows.append({"file": path.name, "instructions": instructions, "estimated_ms": PIXEL4.estimated_ms(instructions),
                     "published_ms": PUBLISHED_MS[precision],
                     "implied_ipc": PIXEL4.implied_ipc(instructions, PUBLISHED_MS[precision])})
    rows += [{"file": path.name, "instructions": (n := counted(path, PIXEL4.core)),
              "estimated_ms": PIXEL4.estimated_ms(n)} for path in also]
    result = {"device": PIXEL4.__dict__, "rows": rows}
    atomic_write(out / "arm_yardstick.json", json.dumps(result, indent=1) + "\n")
    atomic_write(out / "arm_yardstick.md", markdown(result))
    return result


def markdown(result: dict) -> str:
    device = result["device"]
    lines = [f"Estimated for {device['name']}: instructions counted on the emulated {device['core']} (1 thread) "
             f"/ (IPC {device['ipc']:g} x {device['clock_ghz']:.3f} GHz x {device['threads']} threads); "
             "an estimate, not a measurement.", "",
             "| file | M instructions per inference (emulated) | estimated ms | published ms | published / estimated "
             "| IPC x scaling that matches |", "|---|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        published = row.get("published_ms")
        lines.append(f"| {row['file']} | {row['instructions'] / 1e6:.1f} | {row['estimated_ms']:.2f} | "
                     + (f"{published:g} | {published / row['estimated_ms']:.2f} | {row['implied_ipc']:.2f} |"
                        if published else "- | - | - |"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studies.arm_yardstick", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--also", nargs="*", default=[], help=".tflite files to estimate with the same model")
    p.add_argument("--out", default="bench-results/arm_yardstick")
    a = p.parse_args(argv)
    return run_command(lambda: markdown(study(Path(a.out), [Path(name) for name in a.also])))


if __name__ == "__main__":
    sys.exit(main())
