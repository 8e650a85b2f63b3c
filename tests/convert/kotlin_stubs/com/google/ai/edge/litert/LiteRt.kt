// LiteRT 2.3 Kotlin API: the declarations the LiteRT example calls.
package com.google.ai.edge.litert

import android.content.res.AssetManager

enum class Accelerator { NONE, CPU, GPU, NPU }

class Environment private constructor()

class TensorBuffer private constructor() : AutoCloseable {
    fun writeFloat(data: FloatArray): Unit = TODO("stub")
    fun writeInt8(data: ByteArray): Unit = TODO("stub")
    fun writeInt(data: IntArray): Unit = TODO("stub")
    fun readFloat(): FloatArray = TODO("stub")
    fun readInt8(): ByteArray = TODO("stub")
    fun readInt(): IntArray = TODO("stub")
    override fun close(): Unit = TODO("stub")
}

class CompiledModel private constructor() : AutoCloseable {
    class Options(vararg val accelerators: Accelerator)

    fun createInputBuffers(): List<TensorBuffer> = TODO("stub")
    fun createOutputBuffers(): List<TensorBuffer> = TODO("stub")
    fun run(inputBuffers: List<TensorBuffer>, outputBuffers: List<TensorBuffer>): Unit = TODO("stub")
    override fun close(): Unit = TODO("stub")

    companion object {
        fun create(assetManager: AssetManager, assetName: String, options: Options = Options(Accelerator.CPU),
                   optionalEnv: Environment? = null): CompiledModel = TODO("stub")
    }
}
