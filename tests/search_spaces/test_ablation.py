"""leave_one_out: from a best configuration and a reference, each change reverted alone, as one paired study."""

from __future__ import annotations

import pytest

from search_spaces import leave_one_out
from search_spaces.ablation import AblationError

BEST = {"optim.lr": 0.05, "recipe.mix_target": "soft", "recipe.label_smoothing": 0.0, "model.drop_rate": 0.1}
REFERENCE = {"optim.lr": 0.1, "recipe.mix_target": "hard", "recipe.label_smoothing": 0.1, "model.drop_rate": 0.1}


def test_each_change_is_reverted_alone_and_the_reference_reverts_all():
    arms = {c["name"]: {k: v for k, v in c.items() if k != "name"} for c in leave_one_out(BEST, REFERENCE).configs}
    assert list(arms) == ["best", "without optim.lr", "without recipe.mix_target", "without recipe.label_smoothing",
                          "reference"]  # drop_rate is not a change: no arm
    assert arms["best"] == BEST and arms["reference"] == REFERENCE
    assert arms["without optim.lr"] == {**BEST, "optim.lr": 0.1}


def test_a_group_is_reverted_together():
    variants = leave_one_out(BEST, REFERENCE, groups={"soft_target": ["recipe.mix_target", "recipe.label_smoothing"]},
                             best_name="fixed", reference_name="broken")
    arms = {c["name"]: c for c in variants.configs}
    assert list(arms) == ["fixed", "without soft_target", "without optim.lr", "broken"]
    assert arms["without soft_target"]["recipe.mix_target"] == "hard"
    assert arms["without soft_target"]["recipe.label_smoothing"] == 0.1 and arms["without soft_target"]["optim.lr"] == 0.05


@pytest.mark.parametrize("best, reference, groups, named", [
    ({"optim.lr": 0.1}, {}, None, "the reference has no value for optim.lr"),
    (REFERENCE, REFERENCE, None, "nothing to ablate"),
    (BEST, REFERENCE, {"g": ["model.drop_rate"]}, "model.drop_rate, which the best config does not change"),
    (BEST, REFERENCE, {"a": ["optim.lr"], "b": ["optim.lr"]}, "optim.lr in more than one group"),
])
def test_an_ablation_that_cannot_be_built_is_one_line_naming_the_key(best, reference, groups, named):
    with pytest.raises(AblationError) as err:
        leave_one_out(best, reference, groups=groups)
    assert named in str(err.value) and "\n" not in str(err.value)

