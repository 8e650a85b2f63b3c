"""The training input pipelines: what their iterators cost when they end."""
from imagedata.folders import scan
from imagedata.tensors import eval_images
from train.data import Pipeline


def test_no_pipeline_runs_the_autotune_thread_that_iterator_teardown_waits_for(small_demo):
    # With tf.data's autotuner on, each epoch's fit() returned only at the autotune thread's next
    # wake-up (~41 or ~82 s after its data started: 8-35 s after the last step, measured on b0).
    splits = scan(str(small_demo), 0.1, 0)
    pipeline = Pipeline(splits.train, splits.val, len(splits.class_names), 4)
    batches = {"train": pipeline.train(0, 32, randaug=2.0, mixup=0.2), "val": pipeline.val(32),
               "evaluation": eval_images(splits.val.files, 32).batch(4)}
    for name, dataset in batches.items():
        assert dataset.options().autotune.enabled is False, name
        first = next(iter(dataset))  # and it still delivers
        images = first[0] if isinstance(first, tuple) else first
        assert images.shape == (4, 32, 32, 3), name
