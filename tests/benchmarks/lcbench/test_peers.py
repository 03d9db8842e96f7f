"""The GP peer: Optuna's GPSampler, every trial trained to the end, its model fitted on what they reached."""

from benchmarks.lcbench.ours import SPACE
from benchmarks.lcbench.peers import OptunaTPE
from benchmarks.lcbench.sim_clock import Result


def test_the_gp_peer_trains_every_trial_to_the_end_and_models_the_finished_ones():
    gp = OptunaTPE(seed=0, pruner="none", sampler="gp")
    for trial_id in range(14):  # past its 10 random start-up trials
        config = gp.suggest(trial_id)
        assert set(config) == set(SPACE)
        lr = config["learning_rate"]
        for epoch in (1, 2, 3):
            assert gp.report(trial_id, Result(epoch, 100 - abs(lr - 0.01) * 1000, epoch))  # never stopped
        gp.end(trial_id, Result(3, 100 - abs(lr - 0.01) * 1000, 3))
    states = {t.state.name for t in gp.study.trials}
    assert states == {"COMPLETE"} and len(gp.study.trials) == 14
    assert type(gp.study.sampler).__name__ == "GPSampler"
