"""The up-front budget refusal reads each space's least costs: just below one is refused, at them it passes."""
import dataclasses
import time

import pytest

from nas.cost import estimate
from nas.cost.budget import Budget, load_board
from nas.errors import BudgetError
from nas.search.preflight import check_budget_reachable
from nas.spaces import arch_names, get_space


@pytest.mark.parametrize("arch", arch_names())
def test_a_budget_just_below_a_least_cost_is_refused_and_one_at_it_passes(arch):
    space = get_space(arch)
    started = time.monotonic()
    costs = [estimate(c) for c in space.cheapest_candidates()]
    by_memory = min(costs, key=lambda cost: cost.memory_hello_edge_bytes)
    least_ops = min(cost.ops for cost in costs)
    at = Budget("at", 1, 1).checked_memory(by_memory)  # the least memory as the class checks it (0.1 KB)
    check_budget_reachable(space, Budget("at", at, by_memory.ops), arch, "at")
    # candidates that round to the same 0.1 KB tie: any of them may be named
    with pytest.raises(BudgetError, match=rf"memory \+\d\.\d%: the least memory is {arch} \[.* with \d+ B memory"):
        check_budget_reachable(space, Budget("below", at - 1, 10 ** 9), arch, "below")
    with pytest.raises(BudgetError, match=rf"constraints=below \(memory_bytes <= 1000000000, ops <= {least_ops - 1}\)"):
        check_budget_reachable(space, Budget("below", 10 ** 9, least_ops - 1), arch, "below")
    assert time.monotonic() - started < 5


def test_a_board_whose_ram_no_candidate_fits_is_refused_naming_ram():
    board = dataclasses.replace(load_board("nano33ble"), sram_bytes=100)
    with pytest.raises(BudgetError, match=r"constraints=nano33ble: no candidate of search_space=dnn can meet "
                                          r"it: ram \+[\d.]+%: the least ram is dnn \["):
        check_budget_reachable(get_space("dnn"), board, "dnn", "nano33ble")
