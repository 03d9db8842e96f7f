"""Seed 000's leave-one-out study: search_spaces.leave_one_out on the corrected recipe."""

from __future__ import annotations

from studies import registry


def test_seed_000s_leave_one_out_study_reverts_each_fix_of_the_corrected_recipe():
    study = registry.load("rsb_leave_one_out").get_study("local")
    names = [c["name"] for c in study.space["variant"].configs]
    assert names == ["all_fixes", "without soft_target", "without randaugment", "without no_decay_norm_bias",
                     "seed_recipe"] and study.baseline == "all_fixes"
