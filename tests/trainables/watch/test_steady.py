"""SteadyMeans: a trial's epoch time and throughput with each run's first epoch, its warm-up, left out."""

from trainables.watch.steady import SteadyMeans


def epoch(seconds: float) -> dict[str, float]:
    return {"sys/epoch_s": seconds, "sys/samples_per_s": 100 / seconds}


def test_a_one_epoch_trial_reports_the_epoch_it_has():
    assert SteadyMeans().add(epoch(4.0)) == {"sys/epoch_s_steady": 4.0, "sys/samples_per_s_steady": 25.0}


def test_the_sums_travel_in_the_checkpoint_and_a_resumed_runs_first_epoch_is_warm_up():
    first = SteadyMeans()
    first.add(epoch(4.0))
    first.add(epoch(2.0))
    resumed = SteadyMeans(first.state_dict())
    assert resumed.add(epoch(6.0))["sys/epoch_s_steady"] == 2.0
    assert resumed.add(epoch(1.0)) == {"sys/epoch_s_steady": 1.5, "sys/samples_per_s_steady": 75.0}
    assert SteadyMeans(None).state_dict() == SteadyMeans({}).state_dict()  # a checkpoint from before it existed
