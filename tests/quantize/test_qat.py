"""Quantization-aware models of every variant and switch convert to integer-only files whose
ranges are the ones learnt in training."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import models
from convert import ops, recipes, validate
from models.blocks import DepthwiseAveragePooling2D
from quantize import qat

SIZE = 40  # odd feature maps (5 -> 3): the shortcut pools need their border correction


def _trained_briefly(model: keras.Model, size: int = SIZE) -> keras.Model:
    """The QAT model after a few steps on random pixels: ranges and weights move."""
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, size, size, 3)).astype(np.float32)
    labels = np.eye(model.output_shape[-1])[rng.integers(0, model.output_shape[-1], 32)]
    model.compile(keras.optimizers.Adam(1e-4), "categorical_crossentropy")
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    return model


def _qat_file(variant: str, **switches) -> tuple[keras.Model, bytes, bytes]:
    """The QAT model, its file, and the post-training int8 file of the float model."""
    float_model = models.build(variant, input_size=SIZE, num_classes=8, **switches)
    pixels = np.random.default_rng(2).integers(0, 256, (8, SIZE, SIZE, 3), dtype=np.uint8)
    post_training = recipes.convert(float_model, "int8", pixels)
    model = _trained_briefly(qat.quantization_aware(float_model))
    qat.align_concatenation_ranges(model)
    return model, recipes.convert(model, "int8_qat"), post_training


@pytest.mark.parametrize("variant,switches", [
    ("ghost_tiny", {}),
    ("ghost_tiny", {"activation": "hard_swish"}),
    pytest.param("ghost_tiny", {"activation": "relu6", "se": False}, marks=pytest.mark.slow),
    pytest.param("tiny", {}, marks=pytest.mark.slow),
    ("ghostlite_tiny", {}),
], ids=["ghost", "ghost-hard_swish", "ghost-relu6-no_se", "standard", "ghostlite"])
def test_every_switch_converts_to_the_integer_only_graph_of_post_training_int8(tiny_variant, variant, switches):
    """Same ops as the post-training file (no requantizing QUANTIZE between ops, nothing in
    float), so the same XNNPACK partitions: QAT costs no speed."""
    _, tflite, post_training = _qat_file(variant, **switches)
    op_list = ops.operators(tflite)
    assert ops.float_ops(op_list) == []
    assert ops.op_summary(op_list) == ops.op_summary(ops.operators(post_training))
    assert validate.xnnpack_partitions(tflite) == validate.xnnpack_partitions(post_training)
    contract = validate.io_contract(tflite)["inputs"][0]
    assert contract["dtype"] == "uint8" and contract["zero_point"] == 0
    assert contract["scale"] == 1.0  # exactly: the input quantizer is pinned to [0, 255], not learnt


def test_the_file_uses_the_learnt_ranges(tiny_variant):
    model, tflite, _ = _qat_file("ghost_tiny")
    learnt = sorted(_scale(layer) for layer in model.layers
                    if isinstance(layer, qat.QuantizeWrapper) and isinstance(layer.layer, keras.layers.Concatenate))
    interpreter = tf.lite.Interpreter(model_content=tflite)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    written = sorted(tensors[op["outputs"][0]]["quantization"][0] for op in interpreter._get_ops_details()
                     if op["op_name"] == "CONCATENATION")
    assert len(learnt) == len(written) > 0
    np.testing.assert_allclose(written, learnt, rtol=1e-4)


def test_initialized_ranges_are_measured_on_images_not_tfmots_initial_guess(tiny_variant):
    model = qat.quantization_aware(models.build("ghost_tiny", input_size=SIZE, num_classes=8))

    def activation_ranges():
        found = {}
        for layer in model.layers:
            for v in layer.weights:
                name = v.name.rsplit("/", 1)[-1].split(":")[0]
                if name.endswith(("activation_min", "activation_max", "output_min", "output_max")):
                    found[f"{layer.name}/{name}"] = float(v.numpy())
        return found

    before = activation_ranges()
    assert len(before) > 20 and set(before.values()) <= {-6.0, 6.0}  # TFMOT's guess, every range alike
    pixels = np.random.default_rng(3).uniform(0, 255, (2, 4, SIZE, SIZE, 3)).astype(np.float32)
    assert qat.initialize_ranges(model, iter(pixels)) == 2
    after = activation_ranges()
    assert sum(value not in (-6.0, 6.0) for value in after.values()) > 0.9 * len(after)
    assert all(after[name] <= 0 for name in after if name.endswith("_min"))
    assert len({round(value, 3) for value in after.values()}) > len(after) // 2  # each tensor its own range


def _scale(wrapper) -> float:
    values = {v.name.rsplit("/", 1)[-1].split(":")[0]: float(v.numpy()) for v in wrapper.weights}
    return (values["output_max"] - values["output_min"]) / 255


def test_stand_ins_compute_the_layers_they_replace_within_one_int8_step():
    rng = np.random.default_rng(1)
    pixels = rng.uniform(0, 1, (2, 9, 9, 3)).astype(np.float32)
    normalization = keras.layers.Normalization(mean=[0.4, 0.5, 0.6], variance=[0.04, 0.09, 0.16])
    features = rng.normal(0, 1, (2, 9, 9, 6)).astype(np.float32)
    pool = DepthwiseAveragePooling2D(2)
    # What multiplies the inner tensor's rounding error: 1/std, and the border correction (4 at a corner).
    for original, x, gain in ((normalization, pixels, 1 / 0.2), (pool, features, 4.0)):
        expected = original(x).numpy()
        stand_in = qat._stand_in(original)
        assert type(stand_in) is not type(original)
        stand_in(x, training=True)  # learns the range of the tensor between its two ops
        low, high = (float(v.numpy()) for v in (stand_in._inner_vars["min_var"], stand_in._inner_vars["max_var"]))
        got = stand_in(x, training=False).numpy()
        np.testing.assert_allclose(got, expected, atol=(high - low) / 255 / 2 * gain + 1e-6)
        assert not np.allclose(got, expected, atol=1e-7)  # it did quantize


def test_a_layer_without_a_quantize_config_is_named():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.Lambda(lambda t: t * 2, name="doubler")(x)
    with pytest.raises(qat.UnsupportedLayer, match="'doubler' \\(Lambda\\)"):
        qat.quantization_aware(keras.Model(inputs, x))
