"""A study's experiment name: unique even for two studies started in one second."""

from __future__ import annotations


def test_two_studies_started_in_one_second_get_experiments_of_their_own():
    from studies.cli.execute import experiment_name

    names = {experiment_name("local") for _ in range(50)}  # well within one second
    assert len(names) == 50 and all(n.startswith("local-") for n in names)
