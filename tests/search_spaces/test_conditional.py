"""Conditional spaces: declaration and its one-line errors, the overrides one assignment applies, and Optuna sampling
through `define_by_run` never giving a parameter whose condition is off."""

from __future__ import annotations

import dataclasses
import pickle

import optuna
import pytest

from search_spaces import (
    Choice,
    Conditional,
    Grid,
    IntRange,
    LogUniform,
    Uniform,
    applied,
    ses_beta_schedule_space,
    validate_space,
    walk,
)
from studies.tune.optuna_search import define_by_run

SCHEDULE_KEYS = {  # the keys each beta schedule uses (trainables.config.SESConfig)
    "fixed": {"ses.beta"}, "linear": {"ses.beta_start", "ses.beta_end"}, "cosine": {"ses.beta_start", "ses.beta_end"},
    "reverse": {"ses.beta_start", "ses.beta_end"}, "step": {"ses.beta_steps"},
}
SES_KEYS = {"ses.lam", "ses.beta_schedule"}.union(*SCHEDULE_KEYS.values())


def space() -> dict:
    return {"optim.lr": LogUniform(1e-4, 1e-1), "epochs": 3, **ses_beta_schedule_space()}


@pytest.mark.parametrize("make, error, message", [
    (lambda: Conditional({}), ValueError, "at least one option"),
    (lambda: Conditional({("a",): {}}), TypeError, r"got \('a',\) of type tuple"),
    (lambda: Conditional({"a": {"seed": Grid((0, 1))}}), TypeError, "'seed' is a Grid"),
    (lambda: Conditional({"a": {"x": Uniform(0, 1), "y": Conditional({"b": {"x": 1.0}})}}), ValueError,
     "'x' can be set twice on one trial, by 'x' and by 'y' \\(under option='a'\\)"),
    (lambda: Conditional({"a": {1: Uniform(0, 1)}}), ValueError, "keys are config override keys, but got 1"),
])
def test_bad_conditionals_fail_where_declared_in_one_line(make, error, message):
    with pytest.raises(error, match=message) as err:
        make()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad, message", [
    ({"ses.beta": Uniform(0, 1), "ses.on": Conditional({True: {"ses.beta": 0.5}})},
     "'ses.beta' can be set twice on one trial, by 'ses.beta' and by 'ses.on' \\(under the top level\\)"),
    ({"ses.on": Conditional({True: {"ses.on": False}})}, "'ses.on' is set again inside its own option True"),
    ({"a": Conditional({1: {"x": Uniform(0, 1)}}), "b": Conditional({2: {"x": Uniform(0, 1)}})},
     "'x' can be set twice on one trial, by 'a' and by 'b'"),
])
def test_keys_two_declarations_could_both_set_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        validate_space(bad)


def test_unknown_keys_are_named_with_their_condition_and_the_nearest_key():
    from trainables.config import TrainConfig
    from trainables.config.overrides import apply_overrides

    known = set(SES_KEYS | {"ses.enabled", "optim.lr", "epochs"})
    validate_space(space(), known_keys=known)
    typo = {"ses.enabled": Conditional({True: {"ses.betta": Uniform(0.3, 0.9)}})}
    with pytest.raises(ValueError, match=r"unknown key 'ses.betta' under ses.enabled=True \(did you mean 'ses.beta'\?\)"):
        validate_space(typo, known_keys=known)
    # every key the SES space can set is a TrainConfig key: the lowest value of each applies
    lows = {k: (v.low if hasattr(v, "low") else v.values[0] if isinstance(v, Choice) else v)
            for k, v, _ in walk(space()) if not isinstance(v, Conditional)}
    apply_overrides(TrainConfig(), lows)


def test_the_same_key_may_appear_under_two_options_of_one_choice():
    shared = {"linear": {"ses.beta_end": Uniform(0.5, 0.9)}, "cosine": {"ses.beta_end": Uniform(0.5, 0.9)}}
    validate_space({"ses.beta_schedule": Conditional(shared)})


def test_walk_gives_every_declaration_with_its_condition():
    found = {key: condition for key, _, condition in walk(space())}
    assert found["optim.lr"] == ()
    assert found["ses.lam"] == (("ses.enabled", True),)
    assert found["ses.beta_steps"] == (("ses.enabled", True), ("ses.beta_schedule", "step"))


def test_applied_keeps_only_the_parameters_whose_conditions_hold():
    sampled = {"optim.lr": 0.01, "ses.enabled": True, "ses.lam": 0.02, "ses.beta_schedule": "linear",
               "ses.beta_start": 0.2, "ses.beta_end": 0.8, "ses.beta": 0.5, "ses.beta_steps": (0.5, 0.9)}
    assert applied(space(), sampled) == {"optim.lr": 0.01, "epochs": 3, "ses.enabled": True, "ses.lam": 0.02,
                                         "ses.beta_schedule": "linear", "ses.beta_start": 0.2, "ses.beta_end": 0.8}
    assert applied(space(), {**sampled, "ses.enabled": False}) == {"optim.lr": 0.01, "epochs": 3,
                                                                   "ses.enabled": False}


@pytest.mark.parametrize("assignment, message", [
    ({"optim.lr": 0.01, "ses.enabled": True, "ses.lam": 0.1},
     "no value for 'ses.beta_schedule', which applies under ses.enabled=True"),
    ({"optim.lr": 0.01, "ses.enabled": "yes"}, r"ses.enabled='yes' is not one of its options \[False, True\]"),
])
def test_an_assignment_missing_an_applied_value_is_refused(assignment, message):
    with pytest.raises(ValueError, match=message):
        applied(space(), assignment)


def test_declarations_are_frozen_comparable_and_picklable():
    conditional = space()["ses.enabled"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        conditional.options = {}
    assert pickle.loads(pickle.dumps(conditional)) == conditional
    assert hash(conditional) == hash(ses_beta_schedule_space()["ses.enabled"])


def _sample(study: optuna.Study, fn) -> dict:
    trial = study.ask()
    constants = fn(trial)
    config = {**trial.params, **constants}  # as Ray's OptunaSearch: the constants override the captured labels
    study.tell(trial, config["optim.lr"])
    return config


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_optuna_never_samples_a_parameter_whose_condition_is_off(sampler):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fn = define_by_run(space())
    samplers = {"random": lambda: optuna.samplers.RandomSampler(seed=0),
                "tpe": lambda: optuna.samplers.TPESampler(seed=0, n_startup_trials=5, multivariate=True, group=True)}
    study = optuna.create_study(direction="maximize", sampler=samplers[sampler]())
    configs = [_sample(study, fn) for _ in range(40)]
    for config in configs:
        assert applied(space(), config) == config  # nothing beyond what applies, nothing missing
        on = config["ses.enabled"]
        assert (set(config) & SES_KEYS == set()) if not on else (
            set(config) & SES_KEYS == {"ses.lam", "ses.beta_schedule"} | SCHEDULE_KEYS[config["ses.beta_schedule"]])
        assert config["epochs"] == 3
    schedules = {c.get("ses.beta_schedule") for c in configs}
    assert {False, True} == {c["ses.enabled"] for c in configs} and len(schedules) >= 4
    steps = [c["ses.beta_steps"] for c in configs if "ses.beta_steps" in c]
    assert steps and all(isinstance(s, tuple) for s in steps)  # the tuple itself, not its label
    for trial in study.trials:  # and Optuna itself recorded only those
        assert set(trial.params) == set(applied(space(), trial.params)) - {"epochs"}


def test_define_by_run_translates_each_kind_and_refuses_grids():
    fn = define_by_run({"a": Choice((1, 2)), "b": Uniform(0, 1), "c": LogUniform(1e-3, 1), "d": IntRange(2, 2)})
    trial = optuna.create_study().ask()
    assert fn(trial) == {} and trial.params["d"] == 2
    dists = trial.distributions
    assert dists["c"].log and not dists["b"].log and dists["a"].choices == (1, 2)
    with pytest.raises(TypeError, match="'seed': a Grid runs every value, Optuna samples one"):
        define_by_run({"seed": Grid((0, 1))})
