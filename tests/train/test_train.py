"""make train end to end on the tiny registered variant: real tf-keras training, real files."""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import models
from train.__main__ import main
from train.outputs import RunLock

from tests.small_models import TRAIN_FAST

REPO = Path(__file__).resolve().parents[2]
FAST = TRAIN_FAST
CHILD = """
import sys
from tests.small_models import register_tiny
register_tiny()
from train.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def train_cli(out, data, *args):
    return main([*FAST, "--data", str(data), "--out", str(out), *args])


def checkpoint_weights(out: Path) -> dict:
    recorded = json.loads((out / "checkpoints" / "state.json").read_text())["checkpoint"]
    reader = tf.train.load_checkpoint(str(out / "checkpoints" / recorded))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.startswith("model/") and "OPTIMIZER_SLOT" not in name}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_demo, tiny_variant):
    out = tmp_path_factory.mktemp("run") / "ghost_tiny"
    assert train_cli(out, small_demo) == 0
    return out


def test_a_run_writes_its_model_history_curves_and_summary(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"model.keras", "labels.txt", "history.csv", "curves.png", "train.json", "tensorboard", "checkpoints"} <= names
    summary = json.loads((trained / "train.json").read_text())
    assert summary["completed_epochs"] == 3 and summary["data"]["train_images"] == 96
    assert [s["size"] for s in summary["stages"]] == [40, 48]  # small preset: 0.75 * 48 = 36 -> 40, then 48
    rows = (trained / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,stage,image_size") and len(rows) == 4
    assert [r.split(",")[2] for r in rows[1:]] == ["40", "40", "48"]
    assert summary["pipeline_images_per_s"]["48"] > 0 and summary["train_images_per_s"]["48"] > 0
    assert (trained / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert list((trained / "tensorboard").iterdir())


def test_the_model_is_what_make_tflite_takes_as_weights(trained):
    model = models.build("ghost_tiny", weights=str(trained / "model.keras"), input_size=48, num_classes=8)
    saved = tf.keras.models.load_model(trained / "model.keras", compile=False)
    images = np.random.default_rng(0).uniform(0, 255, (2, 48, 48, 3)).astype("float32")
    assert np.allclose(model(images), saved(images), atol=1e-5)
    assert np.allclose(model(images).numpy().sum(1), 1, atol=1e-5)  # probabilities


def test_a_killed_run_resumes_to_the_same_model(tmp_path, small_demo, trained):
    out = tmp_path / "resumed"
    child = subprocess.Popen([sys.executable, "-c", CHILD, *FAST, "--data", str(small_demo), "--out", str(out)],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state, deadline = out / "checkpoints" / "state.json", time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        if state.is_file() and json.loads(state.read_text())["completed_epochs"] >= 1:
            break
        time.sleep(0.05)
    child.kill()
    child.wait()
    assert json.loads(state.read_text())["completed_epochs"] < 3, "the run finished before it could be killed"
    assert train_cli(out, small_demo) == 0
    resumed, uninterrupted = checkpoint_weights(out), checkpoint_weights(trained)
    assert resumed.keys() == uninterrupted.keys()
    for name, value in uninterrupted.items():
        assert np.allclose(resumed[name], value, rtol=1e-3, atol=1e-4), name


def test_rerunning_a_finished_run_changes_nothing(trained, small_demo):
    before = (trained / "model.keras").read_bytes()
    assert train_cli(trained, small_demo) == 0
    assert (trained / "model.keras").read_bytes() == before


def test_a_second_run_into_the_same_out_is_refused(tmp_path, small_demo, capsys, tiny_variant):
    out = tmp_path / "busy"
    out.mkdir()
    with RunLock(out):
        assert train_cli(out, small_demo) == 2
    assert "another training run is writing to" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "EPOCHS must be at least 1"),
    (["--size", "16"], "smaller than the total stride"),
    (["--classes", "5"], "CLASSES=5 but DATA has 8 class folders"),
    (["--weights", "missing.keras"], "does not exist"),
    (["--variant", "nonesuch"], "unknown variant"),
    (["--activation", "gelu"], "unknown activation 'gelu'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, small_demo, capsys, args, message, tiny_variant):
    out = tmp_path / "out"
    assert train_cli(out, small_demo, *args) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not out.exists()


def test_missing_data_and_weights_of_another_variant_are_refused(tmp_path, trained, small_demo, capsys):
    assert train_cli(tmp_path / "a", tmp_path / "nowhere") == 2
    assert "does not exist" in capsys.readouterr().err
    # ghost_tiny's weights into the standard `tiny`: named layers and shapes differ
    assert main([*FAST, "--variant", "tiny", "--data", str(small_demo), "--out", str(tmp_path / "b"),
                 "--weights", str(trained / "model.keras")]) == 2
    assert "do not fit" in capsys.readouterr().err


def test_fine_tuning_with_a_frozen_backbone_keeps_it_frozen(tmp_path, trained, small_demo):
    out = tmp_path / "tuned"
    assert train_cli(out, small_demo, "--weights", str(trained / "model.keras"), "--freeze-epochs", "1",
                     "--epochs", "2", "--stages", "1", "--ema", "0") == 0
    rows = (out / "history.csv").read_text().splitlines()[1:]
    assert [r.split(",")[6] for r in rows] == ["True", "False"]


MIRRORED = """
import sys, json
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tests.small_models import register_tiny
register_tiny()
from train.run import Settings, train
common = dict(variant="ghost_tiny", data=sys.argv[1], size=32, batch=16, epochs=2, progression="fixed",
              randaug=(0, 0), mixup=(0, 0), dropout=(0, 0), drop_path=0.0)
one = train(Settings(out=sys.argv[2] + "/one", **common))
two = train(Settings(out=sys.argv[2] + "/two", **common), tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
print(json.dumps({"replicas": two["replicas"]}))
"""


def test_mirrored_strategy_over_two_devices_trains_like_one(tmp_path, small_demo):
    done = subprocess.run([sys.executable, "-c", MIRRORED, str(small_demo), str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["replicas"] == 2
    one, two = checkpoint_weights(tmp_path / "one"), checkpoint_weights(tmp_path / "two")
    assert one.keys() == two.keys()
    for name, value in one.items():
        # One device runs fused batch norm, whose moving variance takes the unbiased batch variance
        # (x n/(n-1), up to 16/15 here: batch 16 at 1x1); synchronised batch norm takes the biased one.
        rtol = 0.07 if "moving_variance" in name else 1e-3
        assert np.allclose(two[name], value, rtol=rtol, atol=1e-4), name


def test_edge_switches_train_into_the_model_file(tmp_path, small_demo, tiny_variant):
    out = tmp_path / "relu6"
    assert train_cli(out, small_demo, "--activation", "relu6", "--no-se", "--epochs", "1", "--stages", "1") == 0
    model = models.build("ghost_tiny", weights=str(out / "model.keras"), input_size=48, num_classes=8)
    assert isinstance(model.get_layer("stem_activation"), tf.keras.layers.ReLU)
    assert not any(layer.name.endswith("_se_excite") for layer in model.layers)


@pytest.mark.parametrize("recipe", ["small", "paper"])
def test_each_epochs_fit_keeps_the_trained_weights_and_the_average_apart(recipe):
    # The run calls fit() once per epoch; tf-keras ends every fit() by copying the weight average into
    # the weights, so each epoch used to restart from the average. Only validation and export use it.
    import tf_keras as keras

    from train.recipes import RECIPES, optimizer
    from train.network import ema_weights

    model = keras.Sequential([keras.layers.Dense(4, input_shape=(8,))])
    model.compile(optimizer=optimizer(RECIPES[recipe], 1e-2), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8), np.float32), rng.random((64, 4), np.float32)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    trained = model.get_weights()
    with ema_weights(model):
        averaged = model.get_weights()
    assert not np.allclose(trained[0], averaged[0])  # the average lags the weights
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))  # and is swapped back out
