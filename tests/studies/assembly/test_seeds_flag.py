"""`--seeds 0,1,2`: the replicates of any study from the command line; bad values are one line and exit code 2.

The CLI cases call `studies.run.main` in this process with `--dry-run`, so nothing starts; the last two tests
check, without starting Ray, that its Tune adapter trains each sampled configuration once per seed.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from search_spaces import Grid
from studies import registry
from studies.assembly.assemble import build_study
from studies.assembly.seeds import parse_seeds
from studies.cli.main import main
from studies.cli.state import StudyState, load_state, save_state


@pytest.fixture
def run_cli(tmp_path, monkeypatch, capsys):
    """`python -m studies.run ARGS` in an empty folder, in this process: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _one_line_error(code: int, err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_seeds_parse_in_the_order_given():
    assert parse_seeds("3,1, 2") == (3, 1, 2)
    assert parse_seeds("7") == (7,)


@pytest.mark.parametrize("value, named", [
    ("a,b", "'a' is not an integer"),
    ("", "no seed given"),
    ("0,1,1", "1 appears more than once"),
    ("1,,2", "an empty item"),
    ("-1", "-1 is negative"),
    ("1.5", "'1.5' is not an integer"),
])
def test_a_bad_seeds_value_is_one_line_naming_it_and_what_was_expected(run_cli, tmp_path, value, named):
    line = _one_line_error(*run_cli(["ses_beta_sweep", "--seeds", value, "--dry-run"])[::2])
    assert f"--seeds {value!r}" in line and named in line and "expected distinct integers" in line
    assert not list(tmp_path.iterdir()), "bad input must not write anything"


def test_seeds_replace_a_sweeps_own():
    study = build_study(registry.load("ses_beta_sweep"), "local", {}, None, seeds=(0, 1, 2, 3, 4))
    assert study.space["seed"] == Grid((0, 1, 2, 3, 4))
    assert study.total_trials() == 5 * 5  # baseline + 4 betas, x 5 seeds


def test_seeds_added_to_a_search_multiply_its_trials_not_its_configurations():
    plain = build_study(registry.load("lr_warmup_dropout"), "local", {}, None)
    seeded = build_study(registry.load("lr_warmup_dropout"), "local", {}, None, seeds=(0, 1, 2))
    assert "seed" not in plain.space and plain.total_trials() == plain.num_samples
    assert seeded.replicates() == (0, 1, 2)
    assert seeded.num_samples == plain.num_samples and seeded.total_trials() == 3 * plain.num_samples


def test_smoke_keeps_the_first_seed():
    study = build_study(registry.load("ses_beta_sweep"), "smoke", {}, None, seeds=(4, 5))
    assert study.replicates() == (4,)


def test_set_seed_on_a_sweep_is_refused_and_names_seeds(run_cli):
    line = _one_line_error(*run_cli(["ses_beta_sweep", "--set", "seed=3"])[::2])
    assert "--set seed" in line and "--seeds" in line


def test_set_seed_with_seeds_is_refused(run_cli):
    line = _one_line_error(*run_cli(["lr_warmup_dropout", "--set", "seed=3", "--seeds", "1,2", "--dry-run"])[::2])
    assert "--set seed=3" in line and "--seeds" in line


def test_a_search_may_still_set_its_one_seed_with_set(run_cli):
    code, out, _ = run_cli(["lr_warmup_dropout", "--set", "seed=3", "--dry-run"])
    assert code == 0 and "1 seed (3)" in out


def test_the_seeds_are_saved_for_resume_and_old_states_still_load(tmp_path):
    state = StudyState("s", "local", {}, None, "exp", "run", "sqlite:///x", seeds=[3, 4])
    save_state(tmp_path, state)
    assert load_state(tmp_path).seeds == [3, 4]
    (tmp_path / "latest.json").write_text('{"study": "s", "profile": "local", "sets": {}, "num_samples": null, '
                                         '"experiment": "e", "parent_run_id": "r", "tracking_uri": "u"}')
    assert load_state(tmp_path).seeds is None


def test_tpe_trains_each_configuration_it_proposes_once_per_seed():
    pytest.importorskip("ray")
    from studies.tune import tuner as tune

    study = build_study(registry.load("lr_warmup_dropout"), "local", {}, 2, seeds=(5, 6, 7))
    searcher, _ = tune._searcher(study, 2)
    space = tune._space(study)
    assert "seed" not in space  # the searcher replicates; Optuna never sees a grid
    searcher.set_search_properties(study.metric, study.mode, space)
    configs = [searcher.suggest(f"t{i}") for i in range(6)]
    assert [c["seed"] for c in configs] == [5, 6, 7, 5, 6, 7]
    sampled = [{k: v for k, v in c.items() if k != "seed"} for c in configs]
    assert sampled[0] == sampled[1] == sampled[2] and sampled[3] == sampled[4] == sampled[5] != sampled[0]


def test_random_search_keeps_one_sample_across_its_seeds():
    pytest.importorskip("ray")
    from ray.tune.search.variant_generator import generate_variants

    from studies.tune import tuner as tune

    study = build_study(registry.load("lr_warmup_dropout"), "local", {}, 2, seeds=(5, 6))
    study = replace(study, search="random")
    searcher, limit = tune._searcher(study, 2)
    assert searcher._constant_grid_search and searcher.max_concurrent == 2 and limit is None  # Tune would drop it
    assert study.total_trials() == 2 * 2
    variants = [v for _, v in generate_variants(tune._space(study), constant_grid_search=True)]
    assert [v["seed"] for v in variants] == [5, 6] and variants[0]["optim.lr"] == variants[1]["optim.lr"]
