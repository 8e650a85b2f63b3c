"""Running a .tflite (or the Keras model it came from): the backends (a check and a runner
each), isolated worker processes, in-process inference with I/O (de)quantized, timing and
records. Under convert, bench, train and quantize; imports only core (and models, lazily, for
the TensorFlow backend)."""
