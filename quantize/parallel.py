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

import multiprocessing
import os
import queue
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm

from .calibration import calibration_inputs

MIN_IMAGES_PER_WORKER = 8  # below this, starting a process (it imports TF) costs more than it saves
MAX_WORKERS = 8  # each worker holds TF and the float model: about 1 GB for ghost_s at 384


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_WORKERS))


_progress: multiprocessing.Queue | None = None


def _init_worker(progress):
    global _progress
    _progress = progress


def _calibrate_shard(float_model: bytes, images: list[np.ndarray]) -> bytes:
    """Runs in a worker: the float model with min/max recorded over this shard."""
    from tensorflow.lite.python.optimize import calibrator

    def feed():
        for image in images:
            yield [image[None].astype(np.float32)]
            _progress.put(1)

    return calibrator.Calibrator(float_model).calibrate(feed)


def _tensor_ranges(calibrated: bytes) -> dict[tuple[int, int], tuple[float, float]]:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    return {(g, t): (float(tensor.quantization.min[0]), float(tensor.quantization.max[0]))
            for g, graph in enumerate(model.subgraphs) for t, tensor in enumerate(graph.tensors)
            if tensor.quantization is not None and tensor.quantization.min is not None
            and len(tensor.quantization.min)}


def merge_calibrations(calibrated_shards: list[bytes]) -> bytes:
    """One calibrated model whose every tensor range spans all shards' ranges."""
    from tensorflow.lite.tools import flatbuffer_utils

    merged: dict[tuple[int, int], tuple[float, float]] = {}
    for shard in calibrated_shards:
        for key, (low, high) in _tensor_ranges(shard).items():
            old_low, old_high = merged.get(key, (low, high))
            merged[key] = (min(low, old_low), max(high, old_high))
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated_shards[0]))
    for (g, t), (low, high) in merged.items():
        quantization = model.subgraphs[g].tensors[t].quantization
        quantization.min, quantization.max = np.array([low], np.float32), np.array([high], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def calibrate(float_model: bytes, images: list[np.ndarray], workers: int) -> bytes:
    """`float_model` (with the converter's intermediate tensors) calibrated on uint8 `images`,
    split over `workers` processes, with one progress bar."""
    shards = [shard for shard in np.array_split(np.arange(len(images)), workers) if len(shard)]
    context = multiprocessing.get_context("spawn")  # fork is unsafe once TF runs threads
    progress = context.Queue()
    with ProcessPoolExecutor(len(shards), mp_context=context, initializer=_init_worker,
                             initargs=(progress,)) as pool, \
            tqdm(total=len(images), desc=f"calibrating on {len(shards)} cores", unit="img") as bar:
        futures = [pool.submit(_calibrate_shard, float_model, [images[i] for i in shard]) for shard in shards]
        while not all(future.done() for future in futures):
            try:
                bar.update(progress.get(timeout=0.5))
            except queue.Empty:
                pass
        bar.update(bar.total - bar.n)
        calibrated = [future.result() for future in futures]  # re-raises a worker's failure
    return merge_calibrations(calibrated)


def parallel_calibration(converter, images: np.ndarray, workers: int) -> None:
    """Makes `converter` (set up for int8 post-training quantization) calibrate on `workers`
    processes. Mirrors TFLiteConverter._quantize of TF 2.21 for int8 activations."""
    from tensorflow.lite.python.convert import mlir_quantize
    from tensorflow.lite.python.optimize import calibrator

    inputs = calibration_inputs(images)

    def quantize(model, input_type, output_type, activations_type, bias_type, allow_float,
                 enable_variable_quantization, debug_options):
        calibrated = calibrate(calibrator.add_intermediate_tensors(model), inputs, workers)
        return mlir_quantize(
            calibrated, converter._experimental_disable_per_channel,
            input_data_type=input_type, output_data_type=output_type,
            enable_variable_quantization=enable_variable_quantization,
            disable_per_channel_for_dense_layers=(
                converter._experimental_disable_per_channel_quantization_for_dense_layers),
            debug_options_str=debug_options.SerializeToString())

    converter._quantize = quantize
