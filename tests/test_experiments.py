"""Experiments: the same results whatever runs them, and paired differences."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_variant, set_value, variant_data

from sim.briefing import brief
from sim.experiments import analyses, designs, execution, sensitivity
from sim.experiments import store as store_module
from sim.experiments.store import ShardStore
from sim.inputs.schema import InputError

DAYS = 400


def test_one_worker_and_two_workers_give_identical_tables(un, small_world) -> None:
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    variants = [un, make_variant(other)]
    one = analyses.compare(variants, small_world, reps=2, seed=3, days=DAYS, workers=1)
    two = analyses.compare(variants, small_world, reps=2, seed=3, days=DAYS, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_identical_variants_differ_by_exactly_zero(un, small_world) -> None:
    twin = variant_data()
    twin["variant"]["name"] = "twin"
    table = analyses.compare([un, make_variant(twin)], small_world, reps=3, seed=5,
                                days=DAYS)
    stats = analyses.paired(table, un.name, ["data_loss", "latency_median"])
    twin_rows = stats[stats["variant"] == "twin"]
    assert (twin_rows["diff"] == 0).all()
    assert (twin_rows["ci_low"] == 0).all() and (twin_rows["ci_high"] == 0).all()
    assert twin_rows["zero_in_ci"].all()


def test_a_shorter_preservation_period_loses_more_evidence(un, small_world) -> None:
    short, long = variant_data(), variant_data()
    short["variant"]["name"], long["variant"]["name"] = "short", "long"
    set_value(short, "preservation.min_days", 15)
    set_value(short, "preservation.extension", False)
    set_value(long, "preservation.min_days", 365)
    table = analyses.compare([make_variant(long), make_variant(short)], small_world,
                                reps=4, seed=7, days=DAYS)
    stats = analyses.paired(table, "long", ["data_loss", "loss_after_lapse"])
    row = stats[(stats["variant"] == "short") & (stats["metric"] == "data_loss")].iloc[0]
    assert row["diff"] > 0 and row["ci_low"] > 0 and not row["zero_in_ci"]


def test_an_unknown_reference_is_an_error(un, small_world) -> None:
    table = analyses.compare([un], small_world, reps=1, seed=1, days=100)
    with pytest.raises(ValueError, match="nowhere"):
        analyses.paired(table, "nowhere", ["data_loss"])


def test_sweep_is_a_full_factorial_with_every_replication(un, small_world) -> None:
    settings = [designs.parse_set("preservation.min_days=0:120:60"),
                designs.parse_set("mla.refusal_grounds.political_offence=on,off")]
    table = analyses.sweep(un, small_world, settings, reps=2, seed=1, days=200)
    assert len(table) == 3 * 2 * 2
    assert sorted(set(table["preservation.min_days"])) == [0, 60, 120]
    assert set(table["mla.refusal_grounds.political_offence"]) == {True, False}
    assert not table.duplicated(["preservation.min_days",
                                 "mla.refusal_grounds.political_offence", "rep"]).any()


def test_a_ground_can_be_switched_on_and_off() -> None:
    variant, world = variant_data(), {}
    designs.apply(variant, world, "mla.refusal_grounds.political_offence", True)
    assert "political_offence" in variant["mla"]["refusal_grounds"]["value"]
    designs.apply(variant, world, "mla.refusal_grounds.political_offence", False)
    assert "political_offence" not in variant["mla"]["refusal_grounds"]["value"]


@pytest.mark.parametrize("option", ["preservation.max_days=1,2", "nonsense", "a.b=1:0:1"])
def test_bad_settings_are_clear_errors(option: str) -> None:
    with pytest.raises(InputError):
        path, values = designs.parse_set(option)
        designs.apply(variant_data(), {}, path, values[0])


def test_attribution_adds_up_and_idle_groups_contribute_nothing(un, small_world) -> None:
    b = variant_data()
    b["variant"]["name"] = "b"
    set_value(b, "preservation.min_days", 180)  # preservation period
    set_value(b, "mla.channel", "electronic")  # channels
    set_value(b, "scope.offences", ["convention"])  # scope
    metrics = ["data_loss", "latency_median"]
    table = analyses.attribute(un, make_variant(b), small_world, metrics, reps=2, seed=2,
                                  days=300).set_index("group")
    parts, total = table.drop(index="total"), table.loc["total"]
    for m in metrics:
        assert parts[m].sum() == pytest.approx(total[m], abs=1e-12)
    for idle in ("refusal grounds", "dual criminality", "bilateral-treaty rule",
                 "direct orders"):
        assert (parts.loc[idle] == 0).all()


def test_a_difference_in_one_group_is_carried_by_that_group(un, small_world) -> None:
    b = variant_data()
    b["variant"]["name"] = "b"
    set_value(b, "preservation.min_days", 15)
    set_value(b, "preservation.extension", False)
    table = analyses.attribute(un, make_variant(b), small_world, ["data_loss"], reps=2,
                                  seed=3, days=300).set_index("group")
    assert table.loc["preservation period", "data_loss"] == table.loc["total", "data_loss"]
    assert table.loc["total", "data_loss"] > 0
    assert (table.drop(index=["preservation period", "total"])["data_loss"] == 0).all()


def test_an_interrupted_experiment_resumes_without_loss_or_duplicates(
        un, small_world, tmp_path, monkeypatch) -> None:
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    variants = [un, make_variant(other)]
    fresh = analyses.compare(variants, small_world, reps=3, seed=4, days=200)

    def fault(done: int) -> None:
        if done == 3:
            raise KeyboardInterrupt  # the run is killed after three finished runs
    monkeypatch.setattr(execution, "AFTER_RESULT", fault)
    store = ShardStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        analyses.compare(variants, small_world, reps=3, seed=4, days=200, store=store)
    assert len(store.load()) == 3
    monkeypatch.setattr(execution, "AFTER_RESULT", None)
    calls = []
    monkeypatch.setattr(execution, "run_task",
                        lambda task, real=execution.run_task: calls.append(task) or real(task))
    resumed = analyses.compare(variants, small_world, reps=3, seed=4, days=200, store=store)
    assert len(calls) == 3  # only the unfinished runs were computed
    assert len(store.load()) == 6
    pd.testing.assert_frame_equal(resumed, fresh)
    assert not resumed.duplicated(["variant", "rep"]).any()


def test_a_failing_run_is_recorded_and_the_experiment_goes_on(un, small_world,
                                                              monkeypatch) -> None:
    real = execution.run_task

    def flaky(task):
        if task.seed == 2:
            raise RuntimeError("worker died")
        return real(task)
    monkeypatch.setattr(execution, "run_task", flaky)
    table = analyses.compare([un], small_world, reps=3, seed=1, days=100)
    assert len(table) == 3
    failed = table[table["error"].notna()]
    assert list(failed["seed"]) == [2] and "worker died" in failed["error"].iloc[0]
    assert table.loc[table["error"].isna(), "data_loss"].notna().all()


def pair(un) -> list:
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    return [un, make_variant(other)]


def other_b() -> dict:
    b = variant_data()
    b["variant"]["name"] = "b"
    set_value(b, "preservation.min_days", 180)
    set_value(b, "mla.channel", "electronic")
    return b


RUNS = {  # experiment -> a call with the rest of its arguments
    "compare": lambda un, w, **kw: analyses.compare(pair(un), w, reps=3, seed=4, days=200,
                                                       **kw),
    "sweep": lambda un, w, **kw: analyses.sweep(un, w, [
        designs.parse_set("preservation.min_days=30:90:60"),
        designs.parse_set("mla.refusal_grounds.political_offence=on,off")],
        reps=2, seed=2, days=200, **kw),
    "attribute": lambda un, w, **kw: analyses.attribute(
        un, make_variant(other_b()), w, ["data_loss", "latency_median"], reps=2, seed=2,
        days=200, **kw),
    "study": lambda un, w, **kw: analyses.study(
        un, w, sensitivity.ParamsFile(method="morris", samples=4, params={
            "preservation.min_days": sensitivity.Range(bounds=(0, 365)),
            "world.cases.age_days.mean": sensitivity.Range(bounds=(30, 180))}),
        ["data_loss"], seed=1, days=150, **kw),
}


def counting(monkeypatch) -> list:
    """Record every run computed in this process."""
    calls: list = []
    monkeypatch.setattr(execution, "run_task",
                        lambda task, real=execution.run_task: calls.append(task) or real(task))
    return calls


def interrupt_after(monkeypatch, runs: int) -> None:
    def fault(done: int) -> None:
        if done == runs:
            raise KeyboardInterrupt
    monkeypatch.setattr(execution, "AFTER_RESULT", fault)


@pytest.mark.parametrize("name", list(RUNS))
def test_reruns_and_resumed_runs_give_byte_identical_tables(
        name: str, un, small_world, tmp_path: Path, monkeypatch) -> None:
    run = RUNS[name]
    fresh = run(un, small_world)
    first = run(un, small_world, store=ShardStore(tmp_path / "a"))
    calls = counting(monkeypatch)
    again = run(un, small_world, store=ShardStore(tmp_path / "a"))  # every run from its shard
    assert calls == []
    with monkeypatch.context() as m:
        interrupt_after(m, 3)
        with pytest.raises(KeyboardInterrupt):  # two workers, terminated at once
            run(un, small_world, store=ShardStore(tmp_path / "b"), workers=2)
    assert len(ShardStore(tmp_path / "b").load()) == 3
    resumed = run(un, small_world, store=ShardStore(tmp_path / "b"))
    runs = len(ShardStore(tmp_path / "a").load())  # distinct runs (a design may repeat one)
    assert len({ShardStore.key(t) for t in calls}) == runs - 3  # only the unfinished ones
    for table in (first, again, resumed):
        assert table.dtypes.equals(fresh.dtypes) and table.equals(fresh)
        assert table.to_csv().encode() == fresh.to_csv().encode()


def test_the_store_keeps_types_and_reads_only_regular_shard_files(tmp_path: Path,
                                                                  monkeypatch) -> None:
    store = ShardStore(tmp_path)
    written = []
    monkeypatch.setattr(store_module, "atomic_write",
                        lambda path, data, real=store_module.atomic_write:
                        written.append(path.name) or real(path, data))
    key, row = "0123456789abcdef0123", {"requests": 3, "data_loss": 0.25, "latency": np.nan,
                                        "error": "ValueError: x", "transient": False}
    store.save(key, row)
    assert written == [f"{key}.parquet"]
    shard = store.folder / f"{key}.parquet"
    (tmp_path / "elsewhere.parquet").write_bytes(shard.read_bytes())
    (store.folder / f"{'a' * 20}.parquet").symlink_to(tmp_path / "elsewhere.parquet")
    os.mkfifo(store.folder / f"{'b' * 20}.parquet")  # would block a reader
    (store.folder / f"{'c' * 20}.parquet").write_bytes(b"not parquet")
    (store.folder / f"{'d' * 20}.parquet").mkdir()
    for name in (f"{'E' * 20}.parquet", "results.parquet", f"{key}.parquet.partial-x"):
        (store.folder / name).write_bytes(shard.read_bytes())
    loaded = store.load()
    assert list(loaded) == [key]
    assert {k: type(v) for k, v in loaded[key].items()} == {k: type(v) for k, v in row.items()}
    assert loaded[key]["requests"] == 3 and np.isnan(loaded[key]["latency"])


def flaky(monkeypatch, error: Callable[[], Exception], times: int | None) -> list[int]:
    """Seed 2 raises ``error()`` its first ``times`` runs (always if None); seeds are logged."""
    real, seeds = execution.run_task, []

    def run(task):
        seeds.append(task.seed)
        if task.seed == 2 and (times is None or seeds.count(2) <= times):
            raise error()
        return real(task)
    monkeypatch.setattr(execution, "run_task", run)
    return seeds


@pytest.mark.parametrize("error", [lambda: MemoryError("no memory"),
                                   lambda: OSError(errno.ENOSPC, "No space left on device")])
def test_a_transient_failure_is_not_stored_and_is_retried(error, un, small_world,
                                                          tmp_path: Path, monkeypatch) -> None:
    fresh = analyses.compare([un], small_world, reps=3, seed=1, days=100)
    seeds = flaky(monkeypatch, error, times=1)
    store = ShardStore(tmp_path)
    first = analyses.compare([un], small_world, reps=3, seed=1, days=100, store=store)
    found = execution.failures(first)
    assert (found.transient, found.deterministic) == (1, 0)
    assert found.first_error == f"{type(error()).__name__}: {error()}"
    assert first.loc[first["seed"] == 2, "transient"].tolist() == [True]
    assert len(store.load()) == 2  # the transient failure was not stored
    second = analyses.compare([un], small_world, reps=3, seed=1, days=100, store=store)
    assert seeds == [1, 2, 3, 2]  # retried, and only it
    assert execution.failures(second).count == 0 and "error" not in second
    assert second.to_csv() == fresh.to_csv()


def test_a_deterministic_failure_is_stored_once_and_not_run_again(un, small_world,
                                                                  tmp_path: Path,
                                                                  monkeypatch) -> None:
    seeds = flaky(monkeypatch, lambda: ValueError("bad figure"), times=None)
    store = ShardStore(tmp_path)
    first = analyses.compare([un], small_world, reps=3, seed=1, days=100, store=store)
    assert execution.failures(first) == execution.Failures(0, 1, "ValueError: bad figure")
    assert len(store.load()) == 3
    second = analyses.compare([un], small_world, reps=3, seed=1, days=100, store=store)
    assert seeds == [1, 2, 3]  # nothing ran again
    assert second.to_csv() == first.to_csv() and second.dtypes.equals(first.dtypes)


def test_failed_runs_stop_attribution_and_briefing_with_one_line(un, small_world,
                                                                 monkeypatch) -> None:
    def fail(task):
        raise MemoryError("no memory\nat all")
    monkeypatch.setattr(execution, "run_task", fail)
    with pytest.raises(execution.RunsFailed) as info:
        analyses.attribute(un, make_variant(other_b()), small_world, ["data_loss"],
                              reps=1, seed=1, days=100)
    assert (info.value.count, info.value.transient) == (4, 4)
    assert str(info.value) == ("4 run(s) failed (4 transient: running it again retries them)"
                               "; first: MemoryError: no memory at all")

    def broken(task, real=execution.simulate):
        if task.seed == 2:  # the comparison's second replication; the sweep uses seed 1
            raise ZeroDivisionError("division by zero")
        return real(task)
    monkeypatch.setattr(execution, "simulate", broken)
    with pytest.raises(execution.RunsFailed) as info:
        brief.gather([un], small_world, un.name, reps=2, days=100, scale=1.0,
                        sweep_reps=1)
    assert str(info.value) == "1 run(s) failed; first: ZeroDivisionError: division by zero"


def test_a_dask_cluster_gives_the_same_table(un, small_world) -> None:
    distributed = pytest.importorskip("distributed")
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    variants = [un, make_variant(other)]
    local = analyses.compare(variants, small_world, reps=2, seed=8, days=200)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = analyses.compare(variants, small_world, reps=2, seed=8, days=200,
                                      executor=client)
    pd.testing.assert_frame_equal(local, on_dask)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Known indices (Saltelli et al. 2008), through the code path the simulator uses."""
    prob = sensitivity.problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    table = sensitivity.indices(prob, "sobol", 1024, 1, ishigami, ["y"]).set_index("parameter")
    assert table.loc["x1", "S1"] == pytest.approx(0.314, abs=0.03)
    assert table.loc["x2", "S1"] == pytest.approx(0.442, abs=0.03)
    assert table.loc["x3", "S1"] == pytest.approx(0.0, abs=0.03)
    assert table.loc["x1", "ST"] == pytest.approx(0.558, abs=0.03)
    assert table.loc["x3", "ST"] == pytest.approx(0.244, abs=0.03)
    assert list(table.index) == ["x1", "x2", "x3"]  # ranked by total index


def test_sampled_sweep_and_a_simulator_sensitivity_study(un, small_world) -> None:
    settings = [designs.parse_set("preservation.min_days=0:365"),
                designs.parse_set("world.central_authorities.staff=1:30")]
    table = analyses.sweep(un, small_world, settings, reps=2, seed=1, days=150,
                              design="lhs:3")
    assert len(table) == 3 * 2
    assert table["world.central_authorities.staff"].between(1, 30).all()
    params = sensitivity.ParamsFile(method="morris", samples=4, params={
        "preservation.min_days": sensitivity.Range(bounds=(0, 365)),
        "world.cases.age_days.mean": sensitivity.Range(bounds=(30, 180))})
    indices = analyses.study(un, small_world, params, ["data_loss"], seed=1, days=150)
    assert set(indices["parameter"]) == set(params.params)
    assert indices["mu_star"].notna().all()


@pytest.mark.filterwarnings("error")
def test_an_output_that_does_not_vary_or_is_not_observed_has_no_sobol_indices() -> None:
    """0/0 is no index (NaN, no warning); a parameter that changes nothing has zero Morris
    effects; an output missing at some point (nothing obtained) has no index either."""
    prob = sensitivity.problem(["a", "b"], [(0.0, 1.0), (0.0, 1.0)])
    constant = sensitivity.indices(prob, "sobol", 8, 1, lambda x: np.ones((len(x), 1)), ["y"])
    assert constant[["S1", "ST"]].isna().all().all()
    still = sensitivity.indices(prob, "morris", 8, 1, lambda x: np.ones((len(x), 1)), ["y"])
    assert (still["mu_star"] == 0).all()

    def gaps(x: np.ndarray) -> np.ndarray:
        y = x[:, :1].copy()
        y[0] = np.nan
        return y

    missing = sensitivity.indices(prob, "morris", 8, 1, gaps, ["y"])
    assert missing["mu_star"].isna().all()
