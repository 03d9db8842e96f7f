"""The paired comparison of the default search against each method: per-instance means over repetitions first,
differences default minus other, wins where the default's regret is lower, Wilcoxon's p as scipy computes it."""

import math

import pytest
from scipy import stats

from benchmarks.lcbench import paired as P


def _rec(method, instance, rep, regret):
    return {"method": method, "instance": instance, "repetition": rep, "regret": [regret, regret]}


# default (hpstudy-tpe-asha) and one peer on 6 instances, 2 repetitions each
DEFAULT = {"1": (0.1, 0.3), "2": (0.0, 0.2), "3": (0.5, 0.5), "4": (0.2, 0.2), "5": (0.1, 0.1), "6": (0.3, 0.1)}
PEER = {"1": (0.4, 0.4), "2": (0.3, 0.1), "3": (0.4, 0.4), "4": (0.6, 0.6), "5": (0.5, 0.3), "6": (0.2, 0.2)}
RECORDS = ([_rec(P.DEFAULT, i, r, v) for i, vs in DEFAULT.items() for r, v in enumerate(vs)]
           + [_rec("peer", i, r, v) for i, vs in PEER.items() for r, v in enumerate(vs)])


def test_differences_are_of_per_instance_means_and_p_is_scipys_wilcoxon():
    out = P.paired(RECORDS, [P.DEFAULT, "peer"], list(DEFAULT), 2)
    diff = [0.2 - 0.4, 0.1 - 0.2, 0.5 - 0.4, 0.2 - 0.6, 0.1 - 0.4, 0.2 - 0.2]  # by hand: means over the two reps
    c = out["peer"]
    assert c["mean"][0] == pytest.approx(sum(diff) / 6)
    assert c["sd"][0] == pytest.approx(stats.tstd(diff))
    assert c["wins"][0] == 4 and c["n"][0] == 6  # instances 1, 2, 4, 5: lower; 3 higher; 6 a tie
    assert c["p"][0] == pytest.approx(stats.wilcoxon(diff).pvalue)
    assert set(out) == {"peer"}  # the default is not compared with itself


def test_no_default_no_pairs_and_all_ties_have_no_p():
    assert P.paired(RECORDS, ["peer"], list(DEFAULT), 2) == {}
    same = [_rec(P.DEFAULT, "1", 0, 0.2), _rec("peer", "1", 0, 0.2), _rec(P.DEFAULT, "2", 0, 0.3),
            _rec("peer", "2", 0, 0.3)]
    assert math.isnan(P.paired(same, [P.DEFAULT, "peer"], ["1", "2"], 2)["peer"]["p"][1])


def test_the_halves_split_by_the_tuning_ids_and_the_report_reads_a_json():
    halves = P.halves(RECORDS, [P.DEFAULT, "peer"], list(DEFAULT), 2, {"1", "2", "3"})
    assert halves["tuning"]["peer"]["n"] == [3, 3] and halves["held_out"]["peer"]["n"] == [3, 3]
    result = {"all": {P.DEFAULT: {"label": "ours"}, "peer": {"label": "a peer"}}, "instances": list(DEFAULT),
              "fractions": [0.3, 1.0], "runs": RECORDS}
    text = P.report(result, shown=(0, 1))
    assert "| a peer | " in text and "4/6" in text and "tuning half" not in text  # 6 instances: no halves
