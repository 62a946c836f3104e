"""Budgets and board profiles from constraints/*.yaml turn costs into Optuna constraint values."""
import pytest

from nas.cost import estimate
from nas.cost.budget import Budget, BoardProfile, Limits, load_board, load_budget
from nas.errors import ConfigError
from nas.spaces import candidate_from_model_size_info


@pytest.mark.parametrize("name, memory, ops", [
    ("small", 80_000, 6_000_000), ("medium", 200_000, 20_000_000), ("large", 500_000, 80_000_000),
])
def test_budget_classes_hold_the_papers_limits(name, memory, ops):
    # Hello Edge Table 2; KB = 1000 B (hardware.md)
    budget = load_budget(name)
    assert isinstance(budget, Budget)
    assert (budget.name, budget.max_memory_bytes, budget.max_ops, budget.convention) == (name, memory, ops, "hello_edge")


@pytest.mark.parametrize("name, flash, sram, clock", [
    ("stm32f746g_disco", 1024 * 1024, 320 * 1024, 216e6),
    ("nano33ble", 1024 * 1024, 256 * 1024, 64e6),
    ("mps2_an500", 4 * 1024 * 1024, 4 * 1024 * 1024, 216e6),  # the emulator's memory, the STM32F746's clock
])
def test_board_profiles_hold_the_datasheet_figures(name, flash, sram, clock):
    board = load_board(name)
    assert (board.flash_bytes, board.sram_bytes, board.clock_hz) == (flash, sram, clock)
    assert board.target_inferences_per_s > 0 and board.cycles_per_mac > 0


def test_constraints_are_relative_overshoot_and_nonpositive_when_feasible():
    cost = estimate(candidate_from_model_size_info("ds_cnn", [5, 64, 10, 4, 2, 2] + [64, 3, 3, 1, 1] * 4))
    small = load_budget("small")
    c = small.constraints(cost)
    assert cost.memory_hello_edge_bytes == 38_604
    assert c["memory"] == pytest.approx(38_600 / 80_000 - 1)  # checked at the paper's 0.1 KB
    assert c["ops"] == pytest.approx(cost.ops / 6_000_000 - 1)
    assert small.feasible(cost) and all(v <= 0 for v in c.values())
    tight = Budget("tight", max_memory_bytes=19_300, max_ops=10**9)
    assert tight.constraints(cost)["memory"] == pytest.approx(1.0, abs=1e-4)
    assert not tight.feasible(cost)
    deploy = Budget("deploy", max_memory_bytes=cost.memory_deploy_bytes - 1, max_ops=10**9, convention="deploy")
    assert deploy.constraints(cost)["memory"] > 0


def test_board_usage_latency_and_constraints():
    cost = estimate(candidate_from_model_size_info("dnn", [144, 144, 144]))
    board = BoardProfile("b", "m4", flash_bytes=cost.flash_bytes * 4, sram_bytes=cost.ram_bytes * 2,
                         clock_hz=1e6, cycles_per_instruction=1.0, cycles_per_mac=2.0, target_inferences_per_s=10)
    assert board.usage(cost) == pytest.approx({"flash_pct": 25.0, "ram_pct": 50.0})
    assert board.latency_ms_estimate(cost) == pytest.approx(cost.macs * 2 / 1e6 * 1e3)
    c = board.constraints(cost)
    assert c["flash"] == pytest.approx(-0.75) and c["ram"] == pytest.approx(-0.5)
    assert c["latency"] == pytest.approx(cost.macs * 2 / 1e6 * 10 - 1)
    assert board.to_ms(2_000_000, "instructions") == pytest.approx(2000.0)
    assert board.to_ms(1500, "us") == pytest.approx(1.5)
    with pytest.raises(ValueError, match="unknown time unit 'cycles'"):
        board.to_ms(1, "cycles")


def test_unknown_names_and_bad_files_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown budget or board 'tiny'.*small"):
        load_budget("tiny")
    with pytest.raises(ConfigError, match="not a board profile"):
        load_board("small")
    (tmp_path / "neg.yaml").write_text(
        "_target_: nas.cost.budget.Budget\nname: neg\nmax_memory_bytes: -5\nmax_ops: 10\n")
    with pytest.raises(ConfigError, match=r"neg.yaml: budget neg: max_memory_bytes must be a positive number"):
        load_budget("neg", tmp_path)
    (tmp_path / "conv.yaml").write_text(
        "_target_: nas.cost.budget.Budget\nname: c\nmax_memory_bytes: 5\nmax_ops: 10\nconvention: paper\n")
    with pytest.raises(ConfigError, match="convention must be one of"):
        load_budget("conv", tmp_path)


def test_budgets_and_boards_satisfy_the_limits_protocol():
    cost = estimate(candidate_from_model_size_info("dnn", [144, 144, 144]))
    small, board = load_budget("small"), load_board("stm32f746g_disco")
    for limits in (small, board, Budget("d", 80_000, 6_000_000, convention="deploy")):
        assert isinstance(limits, Limits)
        assert limits.constraints(cost) and limits.name
    assert not isinstance(object(), Limits)
    # the memory objective: the budget's convention; a board limits flash and RAM apart, so the deploy total
    assert small.memory_of(cost) == cost.memory_hello_edge_bytes
    assert Budget("d", 1, 1, convention="deploy").memory_of(cost) == cost.memory_deploy_bytes
    assert board.memory_of(cost) == cost.memory_deploy_bytes
    # the Pareto figure draws a class's limits on its memory and ops axes; a board's are not on them
    assert small.plot_limits() == {"memory_bytes": 80_000, "ops": 6_000_000}
    assert board.plot_limits() == {}


def test_deploy_violations_per_budget_kind():
    footprint = {"flash_bytes": 60_000, "arena_bytes": 30_000}
    assert Budget("small", 80_000, 6_000_000).deploy_violations(footprint) == []  # Hello Edge convention: no deploy limit
    assert Budget("small", 80_000, 6_000_000, convention="deploy").deploy_violations(footprint) == [
        "flash + arena 90000 B > 80000 B"]
    assert Budget("big", 90_000, 6_000_000, convention="deploy").deploy_violations(footprint) == []
    board = BoardProfile("b", "m4", 50_000, 40_000, 8e7, 1, 1, 1)
    assert board.deploy_violations(footprint) == ["flash 60000 B > 50000 B"]
    assert BoardProfile("b", "m4", 50_000, 20_000, 8e7, 1, 1, 1).deploy_violations(footprint) == [
        "flash 60000 B > 50000 B", "arena 30000 B > SRAM 20000 B"]


def test_every_paper_configuration_fits_its_own_class_in_the_papers_precision():
    # Hello Edge Table 5 lists each model inside its class at 0.1 KB; DNN small is 80,038 B ("80.0 KB").
    from nas.spaces import hello_edge_candidates

    for published, candidate in hello_edge_candidates():
        cost = estimate(candidate)
        assert load_budget(published.budget).feasible(cost), (published.arch, published.budget)
        if (published.arch, published.budget) == ("dnn", "small"):
            assert cost.memory_hello_edge_bytes == 80_038


@pytest.mark.parametrize("memory, fits", [(80_000, True), (80_049, True), (80_050, False), (80_100, False)])
def test_hello_edge_memory_is_checked_at_a_tenth_of_a_kb_and_the_objective_stays_exact(memory, fits):
    from dataclasses import replace

    cost = replace(estimate(candidate_from_model_size_info("dnn", [144, 144, 144])), memory_hello_edge_bytes=memory)
    small = load_budget("small")
    assert small.feasible(cost) is fits
    assert small.memory_of(cost) == memory
    deploy = Budget("d", 80_000, 6_000_000, convention="deploy")  # the deployment total is never rounded
    assert deploy.feasible(replace(cost, memory_deploy_bytes=80_001)) is False
