"""Multi-objective successive halving on plain numbers: fronts, the order at a rung, and asynchronous promotion on a
closed-form problem with a known front (f1 = x, f2 = 1 - sqrt(x) + y, both minimised: the front is y = 0)."""

from __future__ import annotations

import math
import random

import pytest

from studies.search.mo_rungs import Objective, Rungs, nondominated_ranks, rung_order

NAN = math.nan
MIN2 = ["min", "min"]


def zdt(x: float, y: float) -> tuple[float, float]:
    """The closed form: every y > 0 point is dominated by the y = 0 point with the same x."""
    return x, 1 - math.sqrt(x) + y


def brute_force_ranks(points, modes) -> list[int]:
    """Peel fronts off one at a time, O(n²) per front, straight from the definition of dominance."""
    def better_eq(a, b, mode):
        return a <= b if mode == "min" else a >= b

    def dominates(p, q):
        return (all(better_eq(a, b, m) for a, b, m in zip(p, q, modes))
                and any(a != b for a, b in zip(p, q)))

    finite = {i for i, p in enumerate(points) if all(math.isfinite(v) for v in p)}
    ranks, rank = {}, 0
    while finite:
        front = {i for i in finite if not any(dominates(points[j], points[i]) for j in finite)}
        ranks.update(dict.fromkeys(front, rank))
        finite -= front
        rank += 1
    return [ranks.get(i, rank) for i in range(len(points))]


def test_fronts_of_a_hand_made_set_in_either_direction():
    points = [(1, 4), (2, 2), (4, 1), (3, 3), (4, 4), (5, 5), (2, 2)]
    assert nondominated_ranks(points, MIN2) == [0, 0, 0, 1, 2, 3, 0]  # equal points dominate neither
    as_max = [(-a, b) for a, b in points]  # the first objective reported as a score to maximise
    assert nondominated_ranks(as_max, ["max", "min"]) == [0, 0, 0, 1, 2, 3, 0]
    assert nondominated_ranks([(1, 1), (2, 2)], ["max", "max"]) == [1, 0]
    assert nondominated_ranks([], MIN2) == []


def test_fronts_match_brute_force_on_random_points():
    rng = random.Random(0)
    for _ in range(300):
        dims = rng.choice([1, 2, 3])
        modes = [rng.choice(["min", "max"]) for _ in range(dims)]
        points = [tuple(rng.randint(0, 4) for _ in range(dims)) for _ in range(rng.randint(0, 30))]  # many ties
        ranks = nondominated_ranks(points, modes)
        assert ranks == brute_force_ranks(points, modes), (points, modes)
        order = rung_order(points, modes)
        assert sorted(order) == list(range(len(points)))
        assert [ranks[i] for i in order] == sorted(ranks), "a front comes whole before the next"


def test_non_finite_values_rank_after_every_finite_point():
    points = [(NAN, 0), (1, 1), (2, 2), (math.inf, 0), (0, -math.inf)]
    assert nondominated_ranks(points, MIN2) == [2, 0, 1, 2, 2]
    assert rung_order(points, MIN2) == [1, 2, 0, 3, 4]  # non-finite ones keep their order
    assert nondominated_ranks([(NAN, NAN)], MIN2) == [0]


def test_a_front_is_ordered_from_the_best_first_objective_then_farthest_first():
    front = [zdt(x, 0) for x in (0.5, 1.0, 0.0, 0.04, 0.81)]  # on the front, f2 = 1 - sqrt(f1)
    order = rung_order(front, MIN2)
    assert order[:3] == [2, 1, 0], "best f1 (x=0), then the far end (x=1), then the middle"
    assert set(order[3:]) == {3, 4}
    scaled = [(a, 1000 * b) for a, b in front]  # f2 in other units: the order is the same (Syne Tune's is not)
    assert rung_order(scaled, MIN2) == order
    ties = [(1, 2), (1, 2), (2, 1)]
    assert rung_order(ties, MIN2) == [0, 2, 1], "equal points: the lower index first"


def test_rungs_are_grace_period_times_powers_of_eta_below_max_t():
    objs = [Objective("f1", "min")]
    assert Rungs(objectives=objs, grace_period=1, max_t=27, reduction_factor=3).levels == (1, 3, 9)
    assert Rungs(objectives=objs, grace_period=2, max_t=17, reduction_factor=2).levels == (2, 4, 8, 16)
    with pytest.raises(ValueError, match=r"grace_period <= max_t.*grace_period=5, max_t=3"):
        Rungs(objectives=objs, grace_period=5, max_t=3, reduction_factor=3)
    with pytest.raises(ValueError, match="reduction_factor=1"):
        Rungs(objectives=objs, grace_period=1, max_t=3, reduction_factor=1)
    with pytest.raises(ValueError, match="mode must be one of"):
        Objective("f1", "maximize")


def rungs(eta: float = 3, max_t: float = 9, modes=MIN2) -> Rungs:
    objs = [Objective(f"f{i}", m) for i, m in enumerate(modes)]
    return Rungs(objectives=objs, grace_period=1, max_t=max_t, reduction_factor=eta)


def test_the_first_trial_continues_and_then_the_top_ceil_n_over_eta():
    r = rungs(eta=2)
    assert r.decide("a", 1, (2, 2))  # alone at the rung
    assert not r.decide("b", 1, (3, 3))  # n=2, keep 1: behind a
    v = r.judge("c", 1, (1, 3))  # n=3, keep 2; non-dominated beside a, and first on f1
    assert (v.promote, v.position, v.n, v.keep, v.front) == (True, 0, 3, 2, 0)
    assert r.judge("c", 1.5, (0, 0)) is None, "already recorded at rung 1: no new decision until rung 2"
    assert r.decide("a", 2, (2, 2)) and not r.decide("c", 2, (2, 3))


def test_a_newcomer_dominating_every_record_continues():
    """Syne Tune's Bracket stops it here (its priority is the order read as per-point values): not us."""
    r = rungs(eta=3)
    for trial, value in zip("bcd", (3, 4, 5)):
        r.decide(trial, 1, (value, value))
    v = r.judge("a", 1, (0, 0))
    assert v.promote and v.position == 0 and v.front == 0


def test_ties_go_to_the_trial_being_decided():
    r = rungs(eta=2)
    r.decide("a", 1, (1, 1))
    assert r.decide("b", 1, (1, 1)), "equal to the only record: first, keep 1"


def run_one_worker(r: Rungs, trials: dict[str, tuple[float, float]], max_t: int) -> dict[str, int]:
    """Each trial in turn reports (f1, f2) + 1/epoch (a learning curve that keeps the fronts) until stopped or at
    max_t; returns the epoch each trial ended at."""
    ended = {}
    for trial, (f1, f2) in trials.items():
        epoch = 1
        while epoch < max_t and r.decide(trial, epoch, (f1 + 1 / epoch, f2 + 1 / epoch)):
            epoch += 1
        ended[trial] = epoch
    return ended


FRONT_X = (0.8, 0.5, 0.2, 0.05)  # decreasing: each newcomer is the front's best on f1, so the ε-net puts it first


def known_front(order_seed: int) -> dict[str, tuple[float, float]]:
    """4 trials on the front (in FRONT_X order), then 8 dominated ones (y > 0) in a shuffled order."""
    front = {f"front{x}": zdt(x, 0) for x in FRONT_X}
    dominated = [(f"y{y}-x{x}", zdt(x, y)) for x in FRONT_X for y in (0.3, 0.6)]
    random.Random(order_seed).shuffle(dominated)
    return {**front, **dict(dominated)}


@pytest.mark.parametrize("seed", range(5))
def test_front_trials_reach_max_t_and_dominated_ones_stop_at_the_first_rung(seed):
    r = rungs(eta=3, max_t=6)  # rungs at epochs 1 and 3
    ended = run_one_worker(r, known_front(seed), max_t=6)
    assert {t: e for t, e in ended.items() if t.startswith("front")} == {f"front{x}": 6 for x in FRONT_X}
    assert all(e == 1 for t, e in ended.items() if not t.startswith("front")), ended
    assert len(r.recorded[1]) == 12 and set(r.recorded[3]) == {f"front{x}" for x in FRONT_X}


def test_a_front_larger_than_the_budget_is_cut_by_the_tie_break():
    r = rungs(eta=3, max_t=6)
    ended = run_one_worker(r, {f"front{x}": zdt(x, 0) for x in reversed(FRONT_X)}, max_t=6)  # increasing x
    assert ended == {"front0.05": 6, "front0.2": 1, "front0.5": 1, "front0.8": 3}, "x=0.8 is the far end"


def test_max_objectives_are_negated_min_ones():
    """The same study with f2 reported as a score to maximise (sqrt(x) - y) decides the same."""
    as_min = known_front(0)
    as_max = {t: (f1, -f2) for t, (f1, f2) in as_min.items()}
    ended_min = run_one_worker(rungs(eta=3, max_t=6), as_min, max_t=6)

    r = rungs(eta=3, max_t=6, modes=["min", "max"])
    ended_max = {}
    for trial, (f1, f2) in as_max.items():
        epoch = 1
        while epoch < 6 and r.decide(trial, epoch, (f1 + 1 / epoch, f2 - 1 / epoch)):
            epoch += 1
        ended_max[trial] = epoch
    assert ended_max == ended_min


@pytest.mark.parametrize("seed", range(10))
def test_late_front_trials_pass_the_dominated_ones_recorded_before_them(seed):
    """Four workers, any interleaving: 12 dominated trials start first, the 3 on the front last, so each front trial
    meets ≥ 9 records at the rung and at most 2 front-mates ahead of it: ⌈n/3⌉ ≥ 4 keeps it."""
    rng = random.Random(seed)
    dominated = [(f"d{i}", zdt(rng.random(), rng.uniform(0.1, 1))) for i in range(12)]
    front = [(f"front{x}", zdt(x, 0)) for x in (0.1, 0.5, 0.9)]
    queue, running, ended = [*dominated, *front], {}, {}
    r = rungs(eta=3, max_t=3)  # one rung, at epoch 1
    while queue or running:
        while queue and len(running) < 4:
            trial, values = queue.pop(0)
            running[trial] = [values, 0]
        trial = rng.choice(sorted(running))
        (f1, f2), epoch = running[trial][0], running[trial][1] + 1
        running[trial][1] = epoch
        if epoch >= 3 or not r.decide(trial, epoch, (f1 + 1 / epoch, f2 + 1 / epoch)):
            ended[trial] = epoch
            del running[trial]
    assert all(ended[t] == 3 for t, _ in front), ended


def test_a_non_finite_report_ranks_last_and_is_stopped():
    r = rungs(eta=2)
    r.decide("a", 1, (5, 5))
    v = r.judge("nan", 1, (NAN, 0))
    assert (v.promote, v.position, v.front) == (False, 1, None)
    assert rungs(eta=2).decide("alone", 1, (NAN, NAN)), "the first trial at a rung continues, whatever it reports"
    with pytest.raises(ValueError, match="one value per objective"):
        r.judge("short", 1, (1,))
