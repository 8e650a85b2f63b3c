"""Post-training calibration spread over CPU cores, with the same result as the serial one.

TFLiteConverter calibrates on one core: a logging interpreter runs the float model sample
after sample (ghost_s at 384: 2.4 s per image, 4x a plain invoke) and keeps each tensor's
minimum and maximum. Minima and maxima merge exactly, so shards of the images calibrate in
parallel processes and their ranges combine into the statistics a single pass would have
seen: the quantized file is byte-identical to the serial converter's (tested).

The converter exposes no hook between its calibration and its quantization pass, so
`parallel_calibration` replaces its private `_quantize` step (TF 2.21) with: calibrate in
shards -> merge ranges -> the same `mlir_quantize` call the converter makes.
"""
from __future__ import annotations

import io
import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.environments import with_repo_on_path
from core.files import temporary_directory
from core.processes import dies_with_parent

from .calibration import calibration_inputs

MIN_IMAGES_PER_WORKER = 8  # below this, starting a process (it imports TF) costs more than it saves
MAX_WORKERS = 8  # each worker holds TF and the float model: about 1 GB for ghost_s at 384


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_WORKERS))


def calibrate_shard(float_model: bytes, images: np.ndarray, on_image=lambda: None) -> bytes:
    """The float model with min/max recorded over these images (what each worker does)."""
    from tensorflow.lite.python.optimize import calibrator

    def feed():
        for image in images:
            yield [image[None].astype(np.float32)]
            on_image()

    return calibrator.Calibrator(float_model).calibrate(feed)


def per_image_ranges(float_model: bytes, images: np.ndarray, on_image=lambda: None) -> tuple[list, np.ndarray]:
    """Every calibrated tensor's (min, max) on each image alone: the tensor keys, and an array
    of shape (images, tensors, 2). What a percentile range estimator needs, where min/max
    calibration keeps only the extremes over all images."""
    keys, rows = None, []
    for image in images:
        ranges = _tensor_ranges(calibrate_shard(float_model, image[None]))
        keys = keys or sorted(ranges)
        rows.append([ranges[key] for key in keys])
        on_image()
    return keys, np.array(rows, np.float32)


def _worker_main(argv: list[str]) -> int:
    """`python -m quantize.parallel MODEL IMAGES.npy OUT [per-image]`: one shard, a '.' per image
    on stdout; OUT is the calibrated model, or (per-image) an .npz of per-image ranges.

    Plain subprocesses rather than multiprocessing: its spawn start re-runs the caller's
    main script in every worker, which breaks (or repeats the side effects of) any script
    that calls `convert` without an `if __name__ == "__main__"` guard."""
    model_path, images_path, out_path, *mode = argv
    # Each tick goes down a pipe to the conversion: if that was killed, the next tick raises
    # BrokenPipeError and the worker ends instead of calibrating on as an orphan.
    tick = lambda: print(".", end="", flush=True)  # noqa: E731
    model, images = Path(model_path).read_bytes(), np.load(images_path)
    if mode == ["per-image"]:
        keys, ranges = per_image_ranges(model, images, tick)
        with open(out_path, "wb") as out:
            np.savez(out, keys=np.array(keys), ranges=ranges)
    else:
        Path(out_path).write_bytes(calibrate_shard(model, images, tick))
    return 0


def _count_ticks(workers: list[subprocess.Popen], bar: tqdm) -> None:
    """Adds each worker's ticks (a byte per image) to `bar` until every worker's stdout closes.
    In the main thread, not a reader thread per worker: tqdm's refresh keeps its lock when a
    write fails (stderr's reader gone, as when make's output filter is killed), and the main
    thread's closing of the bar then waits forever on the lock a dead thread holds."""
    open_pipes = {worker.stdout.fileno() for worker in workers}
    while open_pipes:
        ready, _, _ = select.select(list(open_pipes), [], [])
        for pipe in ready:
            if ticks := os.read(pipe, 4096):
                bar.update(len(ticks))
            else:
                open_pipes.discard(pipe)


def _run_workers(float_model: bytes, shards: list[np.ndarray], folder: Path, bar: tqdm,
                 mode: tuple[str, ...] = ()) -> list[bytes]:
    (folder / "model.tflite").write_bytes(float_model)
    env = with_repo_on_path(dict(os.environ))
    workers = []
    try:
        for i, shard in enumerate(shards):
            np.save(folder / f"images{i}.npy", shard)
            with open(folder / f"stderr{i}.txt", "wb") as stderr:
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "quantize.parallel", str(folder / "model.tflite"),
                     str(folder / f"images{i}.npy"), str(folder / f"calibrated{i}.tflite"), *mode],
                    stdout=subprocess.PIPE, stderr=stderr, env=env, preexec_fn=dies_with_parent))
        _count_ticks(workers, bar)
        for worker in workers:
            worker.wait()
    finally:  # interrupted (Ctrl-C): stop the workers with it
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.stdout.close()
    for i, worker in enumerate(workers):
        if worker.returncode != 0:
            lines = (folder / f"stderr{i}.txt").read_text(errors="replace").strip().splitlines()
            raise RuntimeError(f"a calibration worker failed (exit {worker.returncode}): "
                               f"{(lines or ['no error output'])[-1]}; retry with --calib-workers 1")
    return [(folder / f"calibrated{i}.tflite").read_bytes() for i in range(len(shards))]


def _tensor_ranges(calibrated: bytes) -> dict[tuple[int, int], tuple[float, float]]:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    return {(g, t): (float(tensor.quantization.min[0]), float(tensor.quantization.max[0]))
            for g, graph in enumerate(model.subgraphs) for t, tensor in enumerate(graph.tensors)
            if tensor.quantization is not None and tensor.quantization.min is not None
            and len(tensor.quantization.min)}


def _with_ranges(calibrated: bytes, ranges: dict[tuple[int, int], tuple[float, float]]) -> bytes:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    for (g, t), (low, high) in ranges.items():
        quantization = model.subgraphs[g].tensors[t].quantization
        quantization.min, quantization.max = np.array([low], np.float32), np.array([high], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def merge_calibrations(calibrated_shards: list[bytes]) -> bytes:
    """One calibrated model whose every tensor range spans all shards' ranges."""
    merged: dict[tuple[int, int], tuple[float, float]] = {}
    for shard in calibrated_shards:
        for key, (low, high) in _tensor_ranges(shard).items():
            old_low, old_high = merged.get(key, (low, high))
            merged[key] = (min(low, old_low), max(high, old_high))
    return _with_ranges(calibrated_shards[0], merged)


def percentile_calibration(template: bytes, keys: list, ranges: np.ndarray, percentile: float) -> bytes:
    """`template` (any calibrated model) with each feature map's range from the `percentile`-th of
    its per-image maxima and the mirror percentile of its minima: a few outlier images no longer
    stretch every int8 step (min/max calibration is percentile 100).

    Two kinds of tensor keep min/max. The model inputs: the anchor image pins a uint8 input to
    [0, 255] (scale 1, zero point 0), and a percentile would drop it as an outlier. Tensors with
    no spatial extent (SE squeezes and gates, pooled features, logits): one value per channel and
    image, so an image's extreme is a typical value, not an outlier pixel, and clipping it
    saturates the tensor (b0's SE squeeze MEANs went to 5-17 steps RMSE at P=90)."""
    from tensorflow.lite.tools import flatbuffer_utils

    lows = np.percentile(ranges[:, :, 0], 100 - percentile, axis=0)
    highs = np.percentile(ranges[:, :, 1], percentile, axis=0)
    graphs = flatbuffer_utils.convert_bytearray_to_object(bytearray(template)).subgraphs
    inputs = {(g, int(t)) for g, graph in enumerate(graphs) for t in graph.inputs}
    chosen = {}
    for i, (g, t) in enumerate(keys):
        key = (int(g), int(t))
        keep_min_max = key in inputs or not _has_spatial_extent(graphs[key[0]].tensors[key[1]].shape)
        chosen[key] = ((float(ranges[:, i, 0].min()), float(ranges[:, i, 1].max())) if keep_min_max
                       else (float(lows[i]), float(highs[i])))
    return _with_ranges(template, chosen)


def _has_spatial_extent(shape) -> bool:
    """[batch, height, width, channels] with more than one position (not [1, 1, 1, C] or [1, C])."""
    return shape is not None and len(shape) >= 3 and int(np.prod(shape[1:-1])) > 1


def _percentile_calibrate(float_model: bytes, shards: list[np.ndarray], bar: tqdm, percentile: float) -> bytes:
    if len(shards) == 1:
        keys, ranges = per_image_ranges(float_model, shards[0], lambda: bar.update(1))
    else:
        with temporary_directory("calibration-") as folder:
            parts = [np.load(io.BytesIO(data)) for data in
                     _run_workers(float_model, shards, Path(folder), bar, ("per-image",))]
        keys, ranges = [tuple(key) for key in parts[0]["keys"]], np.concatenate([part["ranges"] for part in parts])
    return percentile_calibration(calibrate_shard(float_model, shards[0][:1]), keys, ranges, percentile)


def calibrate(float_model: bytes, images: list[np.ndarray], workers: int, percentile: float | None = None) -> bytes:
    """`float_model` (with the converter's intermediate tensors) calibrated on uint8 `images`,
    split over up to `workers` processes, with one progress bar. `percentile` (e.g. 99.9):
    per-image ranges reduced by percentile instead of the min/max over all images."""
    workers = max(1, min(workers, len(images) // MIN_IMAGES_PER_WORKER))
    shards = [np.stack(shard) for shard in np.array_split(np.stack(images), workers)]
    with tqdm(total=len(images), desc=f"calibrating on {workers} cores", unit="img") as bar:
        if percentile is not None:
            return _percentile_calibrate(float_model, shards, bar, percentile)
        if workers == 1:
            return calibrate_shard(float_model, shards[0], lambda: bar.update(1))
        with temporary_directory("calibration-") as folder:
            return merge_calibrations(_run_workers(float_model, shards, Path(folder), bar))


def parallel_calibration(converter, images: np.ndarray, workers: int, percentile: float | None = None) -> None:
    """Makes `converter` (set up for int8 post-training quantization) calibrate on `workers`
    processes (and with a percentile range estimator if given). Mirrors
    TFLiteConverter._quantize of TF 2.21 for int8 activations."""
    from tensorflow.lite.python.convert import mlir_quantize
    from tensorflow.lite.python.optimize import calibrator

    inputs = calibration_inputs(images)

    def quantize(model, input_type, output_type, activations_type, bias_type, allow_float,
                 enable_variable_quantization, debug_options):
        calibrated = calibrate(calibrator.add_intermediate_tensors(model), inputs, workers, percentile)
        if converter._experimental_calibrate_only:  # QuantizationDebugger: it quantizes the calibration itself
            return calibrated
        return mlir_quantize(
            calibrated, converter._experimental_disable_per_channel,
            input_data_type=input_type, output_data_type=output_type,
            enable_variable_quantization=enable_variable_quantization,
            disable_per_channel_for_dense_layers=(
                converter._experimental_disable_per_channel_quantization_for_dense_layers),
            debug_options_str=debug_options.SerializeToString())

    converter._quantize = quantize


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
