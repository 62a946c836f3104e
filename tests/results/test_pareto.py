"""Pareto mask and exact hypervolume against hand-computed boxes and a Monte Carlo estimate."""
import numpy as np
import pytest

from nas.results.pareto import hypervolume, pareto_mask


def test_pareto_mask_keeps_only_non_dominated_points():
    # (accuracy ↑, memory ↓): (0.9, 50) dominates (0.8, 60); (0.95, 80) trades memory for accuracy.
    pts = [(0.9, 50), (0.8, 60), (0.95, 80), (0.95, 90), (0.7, 40)]
    assert pareto_mask(pts, [True, False]).tolist() == [True, False, True, False, True]


def test_pareto_mask_keeps_duplicates_of_a_front_point():
    assert pareto_mask([(1, 1), (1, 1), (2, 2)], [False, False]).tolist() == [True, True, False]


def test_hypervolume_of_two_boxes_in_2d():
    # Minimise both; reference (4, 4). Boxes [1,4]x[3,4] (3) ∪ [2,4]x[1,4] (6) overlap in [2,4]x[3,4] (2).
    assert hypervolume([(1, 3), (2, 1)], (4, 4), [False, False]) == pytest.approx(7.0)


def test_hypervolume_ignores_points_outside_the_reference_and_dominated_ones():
    base = hypervolume([(1, 3), (2, 1)], (4, 4), [False, False])
    assert hypervolume([(1, 3), (2, 1), (3, 3), (5, 0)], (4, 4), [False, False]) == pytest.approx(base)


def test_hypervolume_3d_matches_monte_carlo_with_a_maximised_axis():
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(0.5, 1.0, 12), rng.uniform(0, 1, 12), rng.uniform(0, 1, 12)])
    ref = (0.4, 1.2, 1.1)  # accuracy ↑ above 0.4; memory, ops ↓ below 1.2, 1.1
    exact = hypervolume(pts, ref, [True, False, False])
    samples = rng.uniform([0.4, 0, 0], [1.0, 1.2, 1.1], size=(200_000, 3))
    dominated = np.zeros(len(samples), dtype=bool)
    for p in pts:
        dominated |= (samples[:, 0] <= p[0]) & (samples[:, 1] >= p[1]) & (samples[:, 2] >= p[2])
    estimate = dominated.mean() * 0.6 * 1.2 * 1.1
    assert exact == pytest.approx(estimate, rel=0.02)


def test_hypervolume_grows_when_a_better_point_is_added():
    pts = [(0.8, 0.5, 0.5)]
    assert hypervolume(pts + [(0.9, 0.4, 0.6)], (0, 1, 1), [True, False, False]) > hypervolume(pts, (0, 1, 1), [True, False, False])
