"""Kotlin examples for `make ship`, written for one artifact: its file name, input shape and
dtype, output dtype and quantization, labels file. Templates, not generated logic: what an app
developer reads and copies.

API facts (LiteRT CompiledModel 2.x, MediaPipe Tasks vision 0.10.x), from their sources:
- TensorBuffer has writeFloat/writeInt8 and readFloat/readInt8, no uint8 variants; writeInt8
  copies raw bytes, so uint8 pixels go in as `toByte()` (low 8 bits) and a uint8 output reads
  back with `toInt() and 0xFF`. `Model.getInputTensorType()` throws for uint8: the dtype is fixed
  here, from the manifest.
- LiteRT 2.3 on Android: the GPU accelerator comes in `litert-gpu`; without it a GPU request
  quietly runs on the CPU, so the Gradle lines name both.
- MediaPipe's ImageClassifier needs a float32 input to declare its normalization in metadata
  (ours: mean 0, std 1) and names categories from the packed labels; it resizes the image itself.
"""
from __future__ import annotations

from string import Template

# From LiteRT 2.3 the Android GPU accelerator is its own artifact: without litert-gpu, useGpu = true
# runs on the CPU without saying so.
GRADLE_LITERT = ('implementation("com.google.ai.edge.litert:litert:2.3.0")\n'
                 '//         implementation("com.google.ai.edge.litert:litert-gpu:2.3.0")  // for useGpu = true')
GRADLE_MEDIAPIPE = 'implementation("com.google.mediapipe:tasks-vision:0.10.14")'

LITERT = Template('''\
// LiteRT CompiledModel (CPU or GPU) for $file, written by `make ship` from its manifest.
// Gradle: $gradle
// Assets: $file, labels.txt (keep .tflite uncompressed: androidResources { noCompress += "tflite" })
//
// Input contract: [1, $size, $size, 3] $input_dtype, RGB pixels in [0, 255]$input_note.
// Do not normalize: the model scales the pixels inside its graph.
package com.example.effnetv2

import android.content.Context
import android.graphics.Bitmap
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import kotlin.math.min

class LiteRtClassifier(context: Context, useGpu: Boolean = false) : AutoCloseable {
    companion object {
        const val MODEL_FILE = "$file"
        const val LABELS_FILE = "labels.txt"
        const val INPUT_SIZE = $size
        const val NUM_CLASSES = $classes
    }

    private val model = CompiledModel.create(
        context.assets, MODEL_FILE, CompiledModel.Options(if (useGpu) Accelerator.GPU else Accelerator.CPU))
    private val inputs = model.createInputBuffers()
    private val outputs = model.createOutputBuffers()
    val labels: List<String> = context.assets.open(LABELS_FILE).bufferedReader().readLines().filter { it.isNotBlank() }

    /** Top-k (label, score) for one camera frame (ARGB_8888). */
    fun classify(frame: Bitmap, k: Int = 5): List<Pair<String, Float>> {
        val pixels = centreCropPixels(frame)
$write_input
        model.run(inputs, outputs)
$read_output
        return scores.withIndex().sortedByDescending { it.value }.take(k).map { labels[it.index] to it.value }
    }

    /** Shorter side scaled to INPUT_SIZE, centre crop: the pixels the model was validated on. */
    private fun centreCropPixels(frame: Bitmap): IntArray {
        val source = if (frame.config == Bitmap.Config.ARGB_8888) frame else frame.copy(Bitmap.Config.ARGB_8888, false)
        val scale = INPUT_SIZE.toFloat() / min(source.width, source.height)
        val width = maxOf(INPUT_SIZE, Math.round(source.width * scale))
        val height = maxOf(INPUT_SIZE, Math.round(source.height * scale))
        val scaled = Bitmap.createScaledBitmap(source, width, height, true)
        val pixels = IntArray(INPUT_SIZE * INPUT_SIZE)
        scaled.getPixels(pixels, 0, INPUT_SIZE, (width - INPUT_SIZE) / 2, (height - INPUT_SIZE) / 2, INPUT_SIZE, INPUT_SIZE)
        return pixels
    }

    override fun close() {
        inputs.forEach { it.close() }
        outputs.forEach { it.close() }
        model.close()
    }
}
''')

WRITE_UINT8 = '''\
        // uint8 input (scale 1, zero point 0): the pixel values themselves, R, G, B per pixel.
        val rgb = ByteArray(INPUT_SIZE * INPUT_SIZE * 3)
        for (i in pixels.indices) {
            val p = pixels[i]
            rgb[3 * i] = (p shr 16).toByte(); rgb[3 * i + 1] = (p shr 8).toByte(); rgb[3 * i + 2] = p.toByte()
        }
        inputs[0].writeInt8(rgb)  // raw bytes: a uint8 tensor receives 0..255 unchanged'''

WRITE_FLOAT = '''\
        // float32 input: the pixel values 0..255 as floats, R, G, B per pixel (no /255, no mean).
        val rgb = FloatArray(INPUT_SIZE * INPUT_SIZE * 3)
        for (i in pixels.indices) {
            val p = pixels[i]
            rgb[3 * i] = ((p shr 16) and 0xFF).toFloat()
            rgb[3 * i + 1] = ((p shr 8) and 0xFF).toFloat()
            rgb[3 * i + 2] = (p and 0xFF).toFloat()
        }
        inputs[0].writeFloat(rgb)'''

READ_UINT8 = Template('''\
        // uint8 output: real value = (q - $zero_point) * $scale (never readFloat() on a uint8 tensor).
        val scores = outputs[0].readInt8().map { ((it.toInt() and 0xFF) - $zero_point) * ${scale}f }''')

READ_FLOAT = '''\
        val scores = outputs[0].readFloat().toList()'''

MEDIAPIPE = Template('''\
// MediaPipe Tasks ImageClassifier for $file, written by `make ship` from its manifest.
// Gradle: $gradle
// Assets: $file (its metadata carries the labels and, for float input, normalization mean 0 / std 1).
// MediaPipe resizes the frame to $size x $size itself; hand it the whole ARGB_8888 frame.
package com.example.effnetv2

import android.content.Context
import android.graphics.Bitmap
import com.google.mediapipe.framework.image.BitmapImageBuilder
import com.google.mediapipe.tasks.core.BaseOptions
import com.google.mediapipe.tasks.core.Delegate
import com.google.mediapipe.tasks.vision.core.RunningMode
import com.google.mediapipe.tasks.vision.imageclassifier.ImageClassifier

class MediaPipeClassifier(context: Context, useGpu: Boolean = false) : AutoCloseable {
    companion object {
        const val MODEL_FILE = "$file"
    }

    private val classifier = ImageClassifier.createFromOptions(
        context,
        ImageClassifier.ImageClassifierOptions.builder()
            .setBaseOptions(BaseOptions.builder().setModelAssetPath(MODEL_FILE)
                .setDelegate(if (useGpu) Delegate.GPU else Delegate.CPU).build())
            .setMaxResults(5)
            .setRunningMode(RunningMode.IMAGE)
            .build())

    /** Top-5 (label, score): labels come from the file's metadata ($classes classes). */
    fun classify(frame: Bitmap): List<Pair<String, Float>> {
        val image = BitmapImageBuilder(frame.copy(Bitmap.Config.ARGB_8888, false)).build()
        val categories = classifier.classify(image).classificationResult().classifications()[0].categories()
        return categories.map { it.categoryName() to it.score() }
    }

    override fun close() = classifier.close()
}
''')


def examples(facts: dict) -> dict[str, str]:
    """{"LiteRtClassifier.kt": ..., "MediaPipeClassifier.kt": ...} for one shipped artifact."""
    entry = facts["entry"]
    (inp,), (out,) = entry["inputs"], entry["outputs"]
    uint8_in, uint8_out = inp["dtype"] == "uint8", out["dtype"] == "uint8"
    common = {"file": facts["file"], "size": inp["shape"][1], "classes": out["shape"][-1]}
    litert = LITERT.substitute(
        common, gradle=GRADLE_LITERT, input_dtype=inp["dtype"],
        input_note=" (quantized with scale 1, zero point 0: the pixel bytes as they are)" if uint8_in else "",
        write_input=WRITE_UINT8 if uint8_in else WRITE_FLOAT,
        read_output=READ_UINT8.substitute(zero_point=out["zero_point"], scale=repr(float(out["scale"])))
        if uint8_out else READ_FLOAT)
    return {"LiteRtClassifier.kt": litert,
            "MediaPipeClassifier.kt": MEDIAPIPE.substitute(common, gradle=GRADLE_MEDIAPIPE)}
