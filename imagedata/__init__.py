"""A user's images and labels, below every stage that reads them: file types, decoding and
resizing to the model's square input, labels.txt, and how a DATA folder is laid out.
Imports no TensorFlow, but for imagedata.tensors (the same images as tf.data decodes them)."""
