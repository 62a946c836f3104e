"""The greedy arena planner: no two live buffers overlap, and known optima are reached."""
import random

from nas.cost.arena import Buffer, plan_greedy


def _overlap(a, oa, b, ob):
    alive_together = a.first <= b.last and b.first <= a.last
    return alive_together and oa < ob + b.size and ob < oa + a.size


def _peak_live(buffers):
    """No plan can beat the most bytes alive at one time."""
    steps = range(max(b.last for b in buffers) + 1)
    return max(sum(b.size for b in buffers if b.first <= t <= b.last) for t in steps)


def test_chain_needs_only_its_largest_adjacent_pair():
    sizes = [490, 8000, 8000, 1920, 16, 128, 12]
    buffers = [Buffer(sizes[0], 0, 0)] + [Buffer(s, i, i + 1) for i, s in enumerate(sizes[1:])]
    total, _ = plan_greedy(buffers)
    assert total == 16000


def test_buffers_alive_at_different_times_share_memory():
    total, offsets = plan_greedy([Buffer(100, 0, 1), Buffer(100, 2, 3), Buffer(50, 1, 2)])
    assert total == 150
    assert offsets[0] == offsets[1] == 0 and offsets[2] == 100


def test_random_plans_are_valid_and_within_bounds():
    rng = random.Random(0)
    for _ in range(200):
        buffers = []
        for _ in range(rng.randint(1, 12)):
            first = rng.randint(0, 8)
            buffers.append(Buffer(rng.randint(1, 1000), first, first + rng.randint(0, 3)))
        total, offsets = plan_greedy(buffers)
        for i, a in enumerate(buffers):
            assert offsets[i] >= 0 and offsets[i] + a.size <= total
            for j in range(i):
                assert not _overlap(a, offsets[i], buffers[j], offsets[j])
        assert _peak_live(buffers) <= total <= sum(b.size for b in buffers)


def test_empty_plan_is_zero_bytes():
    assert plan_greedy([]) == (0, [])
