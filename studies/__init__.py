"""Work that needs several stages, on top of all of them and imported by none: quantization-aware
fine-tuning (make qat), the per-layer int8 report (make quant-report), the calibration study,
the architecture ablation, the defaults study and the Ghost design timings."""
from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
