"""Progressive learning schedule (EfficientNetV2 paper, Algorithm 1)."""
import pytest

from train.progressive import PRESETS, plan, preset_for


def test_the_paper_s_preset_at_its_own_size_reproduces_its_ranges():
    stages = plan(PRESETS["s"], 300, epochs=8, stages=4)
    assert [s.size for s in stages] == [128, 184, 240, 300]
    assert [s.randaug for s in stages] == pytest.approx([5, 8.333, 11.667, 15], abs=1e-3)
    assert [s.dropout for s in stages] == pytest.approx([0.1, 0.1667, 0.2333, 0.3], abs=1e-3)
    assert [(s.first_epoch, s.end_epoch) for s in stages] == [(0, 2), (2, 4), (4, 6), (6, 8)]


def test_sizes_scale_to_the_target_and_respect_the_total_stride():
    stages = plan(PRESETS["l"], 64, epochs=10, stages=3)
    assert [s.size for s in stages] == [32, 40, 64]  # 64 * 128/380 = 21.6 -> at least the stride 32
    assert [s.mixup for s in stages] == [0, 0.2, 0.4]
    assert sum(s.epochs for s in stages) == 10


def test_one_stage_is_fixed_size_training_at_the_last_settings():
    (stage,) = plan(PRESETS["m"], 96, epochs=5, stages=1)
    assert (stage.size, stage.randaug, stage.mixup, stage.dropout, stage.epochs) == (96, 20, 0.2, 0.4, 5)


@pytest.mark.parametrize("epochs, stages, message", [
    (0, 1, "EPOCHS must be at least 1, got 0"),
    (3, 4, r"progressive stages must be between 1 and EPOCHS \(3\), got 4"),
    (5, 0, r"progressive stages must be between 1 and EPOCHS \(5\), got 0")])
def test_impossible_plans_are_refused(epochs, stages, message):
    with pytest.raises(ValueError, match=message):
        plan(PRESETS["s"], 64, epochs, stages)


@pytest.mark.parametrize("name, preset", [("b0", "s"), ("ghost_b3", "s"), ("s_half_depth", "s"), ("m", "m"),
                                          ("ghost_m", "m"), ("l", "l"), ("ghost_xl", "l")])
def test_each_variant_gets_its_size_class_preset(name, preset):
    assert preset_for(name) == preset


def test_fewer_epochs_than_the_default_stages_train_one_stage_per_epoch():
    from train.__main__ import parse

    assert parse(["--data", "d", "--epochs", "3"]).stages == 3
    assert parse(["--data", "d", "--epochs", "30"]).stages == 4
    assert parse(["--data", "d", "--epochs", "30", "--stages", "6"]).stages == 6
