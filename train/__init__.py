"""Training and evaluation on a user's image folder (progressive learning, fine-tuning, tf.distribute).

    python -m train --data FOLDER --variant ghost_b0 --size 64      # make train
    python -m train.evaluate --model runs/ghost_b0/model.keras --data FOLDER   # make evaluate
"""
from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
