"""The MO-ASHA Tune scheduler: its decisions and stop reasons on stand-in trials (no Ray cluster), then one real Tune
run of a closed-form two-objective trainable whose front is known (size = x, val/acc = sqrt(x) - y: the front is
y = 0), with TuneConfig naming no metric."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass

import pytest
from ray import cloudpickle, tune

from studies.tune.mo_asha import MOASHAScheduler

OBJECTIVES = [("size", "min"), ("val/acc", "max")]
CONTINUE, STOP = "CONTINUE", "STOP"

# Tune's workers import functions by module name, and test modules are not importable there: ship this one by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class FakeTrial:
    trial_id: str


def scheduler(**kw) -> MOASHAScheduler:
    return MOASHAScheduler(objectives=OBJECTIVES, **{"max_t": 4, "grace_period": 1, "reduction_factor": 2, **kw})


def report(s: MOASHAScheduler, trial: str, epoch: int, **metrics) -> str:
    result = {"epoch": epoch, "training_iteration": epoch, "time_total_s": 0.1, "config/x": 1.0}
    result.update({{"acc": "val/acc"}.get(k, k): v for k, v in metrics.items()})
    return s.on_trial_result(None, FakeTrial(trial), result)


def test_tune_config_may_leave_metric_and_mode_unset_or_name_one_objective():
    s = scheduler()
    assert s.set_search_properties(None, None, config={}) is True
    assert s.set_search_properties("val/acc", "max") is True
    assert s.set_search_properties("size", None) is True
    for metric, mode in (("val/acc", "min"), ("val/loss", "min"), (None, "max")):
        with pytest.raises(ValueError, match=r"ranks by its objectives \[\('size', 'min'\), \('val/acc', 'max'\)\]"):
            s.set_search_properties(metric, mode)
    assert s.metric is None, "Tune's per-result check of a scheduler metric stays off"
    with pytest.raises(ValueError, match="mode must be one of"):
        MOASHAScheduler(objectives=[("size", "minimize")], max_t=4)


def test_stops_at_a_rung_by_front_and_says_why():
    s = scheduler()  # rungs at epochs 1 and 2, all stop at 4
    assert report(s, "a", 1, size=1.0, acc=0.9) == CONTINUE  # first at the rung
    assert report(s, "b", 1, size=2.0, acc=0.5) == STOP  # dominated by a; n=2, keep 1
    assert s.stopped == {"b": "stopped at epoch 1: rank 2 of 2 at the epoch 1 rung (front 2; the top 1 continue)"}
    assert report(s, "c", 1, size=0.5, acc=0.6) == CONTINUE  # beside a on the front, and the best size
    assert report(s, "a", 2, size=1.0, acc=0.95) == CONTINUE
    assert report(s, "c", 2, size=0.5, acc=0.7) == CONTINUE, "the front's best on the first objective comes first"
    assert report(s, "a", 3, size=1.0, acc=0.97) == CONTINUE, "no rung at 3"
    assert report(s, "a", 4, size=1.0, acc=0.98) == STOP  # max_t: the end, not a rung stop
    assert set(s.stopped) == {"b"}
    assert s.debug_string().endswith("1 stopped; recorded per rung epoch 1: 3, epoch 2: 2")


def test_the_second_arrival_at_rung_two_is_stopped_when_behind_on_the_front():
    s = scheduler()
    for trial, size, acc in (("a", 1.0, 0.9), ("c", 0.5, 0.6)):
        report(s, trial, 1, size=size, acc=acc)
    assert report(s, "c", 2, size=0.5, acc=0.7) == CONTINUE
    assert report(s, "a", 2, size=1.0, acc=0.95) == STOP, "non-dominated, but behind c in the ε-net and n=2, keep 1"
    assert s.stopped["a"] == "stopped at epoch 2: rank 2 of 2 at the epoch 2 rung (front 1; the top 1 continue)"


def test_a_missing_objective_continues_and_counts_as_worst():
    s = scheduler()
    report(s, "a", 1, size=1.0, acc=0.9)
    assert report(s, "m", 1, size=0.1) == CONTINUE  # no val/acc this epoch: judged last, kept anyway
    assert report(s, "n", 1, size=0.1, acc=None) == CONTINUE
    assert report(s, "c", 1, size=2.0, acc=0.5) == CONTINUE, "n=4, keep 2: only a is ahead of it"
    assert s.stopped == {}
    assert math.isnan(s.rungs.recorded[1]["m"][1])


def test_a_reported_nan_is_judged_and_ranks_last():
    s = scheduler()
    report(s, "a", 1, size=1.0, acc=0.9)
    assert report(s, "nan", 1, size=0.1, acc=float("nan")) == STOP
    assert s.stopped["nan"].endswith("(a non-finite objective ranks last; the top 1 continue)")


def test_results_without_the_time_attribute_are_not_judged():
    s = scheduler()
    assert s.on_trial_result(None, FakeTrial("a"), {"size": 1.0, "val/acc": 0.1}) == CONTINUE
    assert s.rungs.recorded == {1: {}, 2: {}}


def test_a_trial_that_ends_by_itself_is_recorded_at_its_rung():
    s = scheduler()
    s.on_trial_complete(None, FakeTrial("early"), {"epoch": 2, "size": 0.1, "val/acc": 0.99})
    assert s.rungs.recorded[2] == {"early": (0.1, 0.99)}
    report(s, "b", 1, size=1.0, acc=0.1)
    assert report(s, "b", 2, size=1.0, acc=0.2) == STOP, "behind the trial that ended at epoch 2"
    s.on_trial_complete(None, FakeTrial("b"), {"epoch": 2, "size": 1.0, "val/acc": 0.2})  # already recorded
    assert len(s.rungs.recorded[2]) == 2


def test_state_survives_pickling_and_save_restore(tmp_path):
    s = scheduler()
    report(s, "a", 1, size=1.0, acc=0.9)
    report(s, "b", 1, size=2.0, acc=0.5)
    copy = cloudpickle.loads(cloudpickle.dumps(s))  # Tuner pickles its TuneConfig into tuner.pkl
    assert copy.stopped == s.stopped and copy.rungs.recorded == s.rungs.recorded
    s.save(str(tmp_path / "sched.pkl"))
    fresh = scheduler()
    fresh.restore(str(tmp_path / "sched.pkl"))
    assert fresh.stopped == s.stopped and report(fresh, "c", 1, size=3.0, acc=0.1) == STOP


def test_the_rungs_survive_a_resume_through_tunes_callback_state(tmp_path):
    """What Tuner.restore does: unpickle tuner.pkl (the scheduler and the callbacks in one pickle, as made), then
    restore the callbacks' state Tune saved with the experiment. The scheduler Tune then runs holds the rungs."""
    from ray.tune.callback import CallbackList

    from studies.tune.tuner import TrialEvents

    s = scheduler()
    events = TrialEvents(print, print, print)
    events.stop_reasons, events.scheduler = s.stopped, s  # as run_tuner wires them
    tuner_pkl = cloudpickle.dumps({"scheduler": s, "callbacks": [events]})  # written before any trial ran
    report(s, "a", 1, size=1.0, acc=0.9)
    report(s, "b", 1, size=2.0, acc=0.5)
    CallbackList([events]).save_to_dir(str(tmp_path))  # Tune's experiment checkpoint

    restored = cloudpickle.loads(tuner_pkl)
    assert restored["scheduler"].rungs.recorded[1] == {}  # tuner.pkl alone: empty rungs
    callbacks = CallbackList(restored["callbacks"])
    assert callbacks.can_restore(str(tmp_path))
    callbacks.restore_from_dir(str(tmp_path))
    back = restored["scheduler"]
    assert back.rungs.recorded == s.rungs.recorded and back.stopped == s.stopped
    assert restored["callbacks"][0].stop_reasons is back.stopped  # still one dict
    assert report(back, "c", 1, size=3.0, acc=0.1) == STOP  # judged against a and b, as without the resume
    assert back.stopped["c"].startswith("stopped at epoch 1: rank 3 of 3")


def test_a_state_from_other_rungs_is_refused():
    with pytest.raises(ValueError, match="rungs"):
        scheduler(max_t=4).set_state(scheduler(max_t=40).get_state())


def test_without_a_multi_objective_scheduler_the_callback_has_no_state():
    from studies.tune.tuner import TrialEvents

    assert TrialEvents(print, print, print).get_state() is None  # Tune writes no callback file then


def test_rays_asha_rungs_survive_a_resume_too(tmp_path):
    from ray.tune.callback import CallbackList
    from ray.tune.schedulers import ASHAScheduler

    from studies.tune.tuner import TrialEvents

    s = ASHAScheduler(time_attr="epoch", metric="val/acc", mode="max", max_t=4, grace_period=1, reduction_factor=2)
    events = TrialEvents(print, print, print)
    events.scheduler = s
    tuner_pkl = cloudpickle.dumps({"scheduler": s, "callbacks": [events]})
    for trial, acc in (("a", 0.9), ("b", 0.5)):
        s.on_trial_add(None, FakeTrial(trial))
        s.on_trial_result(None, FakeTrial(trial), {"epoch": 1, "val/acc": acc})
    CallbackList([events]).save_to_dir(str(tmp_path))
    restored = cloudpickle.loads(tuner_pkl)
    CallbackList(restored["callbacks"]).restore_from_dir(str(tmp_path))
    back = restored["scheduler"]
    assert back._brackets[0]._rungs[-1] == (1, {"a": 0.9, "b": 0.5})  # the epoch-1 rung, as before the resume
    back.on_trial_add(None, FakeTrial("c"))
    assert back.on_trial_result(None, FakeTrial("c"), {"epoch": 1, "val/acc": 0.4}) == STOP  # below the cutoff


# The closed form for the real run: 4 trials on the front, in decreasing x (each newcomer is the front's best
# `size`, which the ε-net puts first), then 8 dominated ones (y > 0 at the same x's).
FRONT_X = (0.8, 0.5, 0.2, 0.05)
POINTS = [[x, 0.0] for x in FRONT_X] + [[x, y] for y in (0.3, 0.6) for x in FRONT_X]
MAX_T = 6  # epochs; with grace_period 1 and η = 3 the rungs are at epochs 1 and 3


def closed_form(config):
    x, y = config["point"]
    for epoch in range(1, MAX_T + 1):
        tune.report({"epoch": epoch, "size": x, "val/acc": math.sqrt(x) - y - 1 / epoch})


@pytest.fixture
def local_ray():
    import ray

    started = not ray.is_initialized()
    if started:  # address="local": a Ray of our own, never another user's on this machine
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


def test_a_tune_run_keeps_the_front_and_stops_the_dominated_at_the_first_rung(local_ray, tmp_path):
    """One trial at a time (max_concurrent_trials=1), so the arrival order at each rung is the grid's and the
    outcome is exact; interleavings are the pure tests' (test_mo_rungs)."""
    sched = MOASHAScheduler(objectives=OBJECTIVES, max_t=MAX_T, grace_period=1, reduction_factor=3)
    tuner = tune.Tuner(
        tune.with_resources(closed_form, {"cpu": 0.5}),
        param_space={"point": tune.grid_search(POINTS)},
        tune_config=tune.TuneConfig(metric=None, mode=None, scheduler=sched, max_concurrent_trials=1,
                                    reuse_actors=True),
        run_config=tune.RunConfig(name="mo_asha", storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert not results.errors
    ended = {tuple(r.config["point"]): r.metrics["epoch"] for r in results}
    assert ended == {tuple(p): MAX_T if p[1] == 0 else 1 for p in POINTS}
    ids = {tuple(r.config["point"]): r.metrics["trial_id"] for r in results}
    stopped = {tuple(p): sched.stopped.get(ids[tuple(p)]) for p in POINTS}
    assert all(stopped[tuple(p)] is None for p in POINTS if p[1] == 0)
    for p in POINTS[len(FRONT_X):]:  # behind the 4 front trials (at least), in front 2 or a later one
        assert re.fullmatch(r"stopped at epoch 1: rank ([5-9]|1[0-2]) of ([5-9]|1[0-2]) at the epoch 1 rung "
                            r"\(front [2-9]; the top [1-4] continue\)", stopped[tuple(p)]), stopped

    clash = tune.Tuner(closed_form, param_space={"point": [0.5, 0.0]},
                       tune_config=tune.TuneConfig(metric="val/loss", mode="min", scheduler=sched),
                       run_config=tune.RunConfig(name="clash", storage_path=str(tmp_path), verbose=0))
    with pytest.raises(ValueError, match="ranks by its objectives"):  # before any trial starts
        clash.fit()
