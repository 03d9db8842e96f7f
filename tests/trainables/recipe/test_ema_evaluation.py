"""The EMA is evaluation-only: a run trains the same weights with it or without it, so one trial gives both the
raw weights' numbers (val/acc, test/acc) and the EMA's (val/acc_ema, test/acc_ema). rsb_fixes_ablation relies on
it to read "EMA off/on" from the same trial."""

from trainables.config import DataConfig, EMAConfig, RecipeConfig, TrainConfig
from trainables.loop import run


class Keep:
    def __init__(self):
        self.reports = []

    def restore(self):
        return None

    def report(self, metrics, state):
        self.reports.append(metrics)


def _run(ema: bool):
    cfg = TrainConfig(
        epochs=2, num_threads=1,  # eval.test auto: the test split once, at the end
        data=DataConfig(name="mnist5k", batch_size=64, limit_train=256),
        recipe=RecipeConfig(mixup_alpha=0.2, cutmix_alpha=1.0, randaugment_n=2),  # every RNG the recipe draws
        ema=EMAConfig(enabled=ema, decay=0.9),
    )
    sink = Keep()
    run(cfg, sink)
    return sink.reports


def test_the_ema_changes_no_trained_weight_and_is_reported_beside_them():
    without, with_ema = _run(False), _run(True)
    raw = ("train/loss", "val/acc", "val/loss", "test/acc")
    for a, b in zip(without, with_ema):
        assert {k: a[k] for k in raw if k in a} == {k: b[k] for k in raw if k in b}
    last = with_ema[-1]
    assert {"val/acc_ema", "test/acc_ema"} <= set(last) and "val/acc_ema" not in without[-1]
    assert last["test/acc_ema"] != last["test/acc"] or last["val/acc_ema"] != last["val/acc"]  # other weights
