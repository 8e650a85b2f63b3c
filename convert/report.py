"""What make tflite prints and writes about a file it converted: the one summary line on the
console and the Markdown report beside the file, both read from the file's manifest entry."""
from __future__ import annotations

import json


def render_report(name: str, entry: dict) -> str:
    v, io = entry["validation"], entry
    lines = [f"# {name}", "",
             f"- file: {entry['size_bytes'] / 1e6:.2f} MB, sha256 {entry['sha256']}",
             f"- input: {io['inputs'][0]['shape']} {io['inputs'][0]['dtype']} "
             f"(scale {io['inputs'][0]['scale']}, zero point {io['inputs'][0]['zero_point']})",
             f"- output: {io['outputs'][0]['shape']} {io['outputs'][0]['dtype']}",
             f"- validation on {v['images']} held-out images: top-1 agreement {v['top1_agreement']:.1%}, "
             f"cosine {v['cosine_mean']:.5f} (min {v['cosine_min']:.5f}), max |err| {v['max_abs_error']:.3g}, "
             f"mean |err| {v['mean_abs_error']:.3g}",
             *([f"- held-out labelled accuracy ({a['images']} images, {a['split']}): Keras top-1 "
                f"{a['keras_top1']:.2%}, this file {a['tflite_top1']:.2%} ({a['top1_drop_points']:+.2f} points lost), "
                f"top-1 agreement {a['top1_agreement']:.2%}"] if (a := v.get("accuracy")) else []),
             *([f"- untrained model, judged layer by layer (its logits carry every layer's rounding noise): SQNR "
                f"against Keras {d['first']['sqnr_db']} dB at {d['first']['layer']}, {d['last']['sqnr_db']} dB at "
                f"{d['last']['layer']}, largest single drop {d['largest_drop']['db']} dB ({d['layers_probed']} layers)"]
               if (d := v.get("depth_profile", {})).get("layers_probed") else []),
             *([f"- **written despite failed validation (FORCE=1):** {'; '.join(v['accepted_despite'])}"]
               if v.get("accepted_despite") else []),
             f"- calibration: {json.dumps(entry['calibration'])}",
             f"- GPU accelerator: {json.dumps(entry['gpu'])}",
             f"- oldest TFLite runtime for its op versions: {entry['runtimes']['min_runtime_version']}; "
             f"tflite-runtime 2.14: {json.dumps(entry['runtimes']['legacy_tflite_runtime'])}",
             f"- on an emulated ARM core (LiteRT aarch64 under qemu): {json.dumps(entry['runtimes']['arm_emulated'])}",
             f"- float ops: {entry['float_ops']}; XNNPACK runs the graph in {entry['xnnpack_partitions']} "
             "partition(s) (ops between partitions run on the reference kernels)",
             f"- timings (s): {json.dumps(entry['timings_s'])}", "",
             "| op | count |", "|---|---:|"]
    lines += [f"| {op} | {count} |" for op, count in entry["ops"].items()]
    return "\n".join(lines) + "\n"


def _arm_summary(arm: dict | None) -> str:
    """` | ARM Cortex-A76: same outputs (16 images)`, where make tflite ran the file on an emulated core."""
    if not arm or arm.get("status") == "skipped":
        return ""
    if arm["status"] == "failed":
        return f" | ARM {arm['core']}: failed ({arm['reason']})"
    differing = f"{arm['images_differing']} of " if arm["images_differing"] else ""
    return f" | ARM {arm['core']} (emulated): {arm['status']} ({differing}{arm['images']} images)"


def size_class_line(variant: str, arm: dict | None) -> str:
    """Which variant of this one's size class executes the fewest instructions on the core make
    tflite checked the file on (from runtime/arm/counts.csv), on a line of its own."""
    found = (arm or {}).get("size_class")
    if not found:
        return ""
    if "unavailable" in found:
        return f"\nnote: no ARM counts to compare variants on {found['core']}: {found['unavailable']}"
    counts, fewest = found["million_instructions"], found["fewest"]
    ranked = ", ".join(f"{name} {count:,.1f} M" + (f" ({count / counts[fewest]:.2f}x)" if name != fewest else "")
                       for name, count in counts.items())
    if variant not in counts:
        verdict = f"{variant} is not counted (make arm-counts ARM_VARIANTS={variant}); of its size class"
    elif variant == fewest:
        verdict = f"{variant} executes the fewest instructions of its size class"
    else:
        verdict = f"make tflite VARIANT={fewest} executes fewer instructions"
    return (f"\nARM {found['core']}, emulated counts ({found['precision']}, {found['input_size']} px, untrained, "
            f"1 thread, per inference): {verdict}: {ranked}")


def summary_line(result) -> str:
    """One line for a pipeline.Result: size, agreement with Keras, accuracy, checks, time; warnings below."""
    entry = result.manifest["artifacts"][result.tflite.name]
    v = entry["validation"]
    accuracy = (f" | held-out top-1 {a['tflite_top1']:.2%} (Keras {a['keras_top1']:.2%}, {a['images']} labelled images)"
                if (a := v.get("accuracy")) else "")
    if (d := v.get("depth_profile", {})).get("layers_probed"):
        accuracy += (f" | untrained: layer SQNR {d['first']['sqnr_db']:.0f} -> {d['last']['sqnr_db']:.0f} dB, "
                     f"largest drop {d['largest_drop']['db']:.1f} dB")
    forced = (f"\nwarning: written despite failed validation (FORCE=1): {'; '.join(v['accepted_despite'])}"
              if v.get("accepted_despite") else "")
    return (f"{result.tflite} {entry['size_bytes'] / 1e6:.2f} MB | vs Keras on {v['images']} held-out images: "
            f"top-1 {v['top1_agreement']:.0%}, cosine {v['cosine_mean']:.4f}, max|err| {v['max_abs_error']:.3g}{accuracy} "
            f"| GPU: {entry['gpu'].get('status')}{_arm_summary(entry['runtimes'].get('arm_emulated'))} "
            f"| {sum(result.timings.values()):.0f} s"
            + size_class_line(result.manifest["variant"], entry["runtimes"].get("arm_emulated"))
            + _partitions_warning(entry["xnnpack_partitions"]) + _skipped_warning(entry["calibration"]) + forced)


def _skipped_warning(images: dict) -> str:
    if not images.get("skipped_files"):
        return ""
    return (f"\nwarning: {images['skipped_files']} image files in DATA could not be decoded and were skipped "
            f"(e.g. {', '.join(images['skipped_examples'])})")


def _partitions_warning(partitions: int) -> str:
    if partitions <= 1:
        return ""
    return (f"\nwarning: XNNPACK runs this file in {partitions} pieces; the ops between them use the slow "
            "reference kernels (e.g. int8 HARD_SWISH: prefer activation silu or relu6); see the report's op list")
