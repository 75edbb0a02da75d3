"""Experiments: the same results whatever runs them, and paired differences."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_variant, set_value, variant_data

from sim.briefing import brief
from sim.experiments import analyses, designs, execution, sensitivity
from sim.experiments import store as store_module
from sim.experiments.runner import run_one
from sim.experiments.store import ShardStore
from sim.inputs.schema import InputError

WINDOW = 120  # days of each measurement window (replication) in these tests
STEADINESS = ("mser5_day", "runoff_days", "overloaded_desks")  # the run's, on every window


def test_one_worker_and_two_workers_give_identical_tables(un, small_world) -> None:
    variants = pair(un)
    one = analyses.compare(variants, small_world, reps=2, seed=3, window=WINDOW, workers=1)
    two = analyses.compare(variants, small_world, reps=2, seed=3, window=WINDOW, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_identical_variants_differ_by_exactly_zero(un, small_world) -> None:
    twin = variant_data()
    twin["variant"]["name"] = "twin"
    table = analyses.compare([un, make_variant(twin)], small_world, reps=3, seed=5,
                             window=WINDOW)
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
                             reps=4, seed=7, window=WINDOW)
    stats = analyses.paired(table, "long", ["data_loss", "loss_after_lapse"])
    row = stats[(stats["variant"] == "short") & (stats["metric"] == "data_loss")].iloc[0]
    assert row["diff"] > 0 and row["ci_low"] > 0 and not row["zero_in_ci"]


def test_an_unknown_reference_is_an_error(un, small_world) -> None:
    table = analyses.compare([un], small_world, reps=1, seed=1, window=WINDOW)
    with pytest.raises(ValueError, match="nowhere"):
        analyses.paired(table, "nowhere", ["data_loss"])


def test_sweep_is_a_full_factorial_with_every_replication(un, small_world) -> None:
    settings = [designs.parse_set("preservation.min_days=30:150:60"),
                designs.parse_set("mla.refusal_grounds.political_offence=on,off")]
    table = analyses.sweep(un, small_world, settings, reps=2, seed=1, window=WINDOW)
    assert len(table) == 3 * 2 * 2
    assert sorted(set(table["preservation.min_days"])) == [30, 90, 150]
    assert set(table["mla.refusal_grounds.political_offence"]) == {True, False}
    assert not table.duplicated(["preservation.min_days",
                                 "mla.refusal_grounds.political_offence", "rep"]).any()
    assert table["rep"].tolist() == [0, 1] * 6  # each point's run: its two windows
    assert (table["seed"] == 1).all()  # every point on the same seed, so the same cases


def test_replications_are_the_windows_of_one_run_with_its_seed(un, small_world) -> None:
    """Replication k is window k of each variant's one run: every row carries the run's
    seed, and the first k windows of a longer run are those of a run of k windows."""
    table = analyses.compare(pair(un), small_world, reps=3, seed=4, window=WINDOW)
    assert table["variant"].tolist() == [un.name] * 3 + ["longer_period"] * 3
    assert table["rep"].tolist() == [0, 1, 2] * 2
    assert (table["seed"] == 4).all()
    for _, rows in table.groupby("variant"):
        assert (rows[list(STEADINESS)].nunique() == 1).all()  # one run: one steady check
        assert rows["requests"].nunique() > 1  # but each window is its own cohort
    shorter = analyses.compare(pair(un), small_world, reps=2, seed=4, window=WINDOW)
    metrics = [c for c in shorter if c not in STEADINESS]
    pd.testing.assert_frame_equal(table.loc[table["rep"] < 2, metrics].reset_index(drop=True),
                                  shorter[metrics])


def test_replication_k_of_every_variant_faces_the_same_cases(un, small_world) -> None:
    """The pairing: the same seed draws the same cases, and window k holds the same ones
    whatever the text (so paired differences are between texts, not between cases)."""
    def cases(variant) -> pd.DataFrame:
        requests = run_one(variant, small_world, 4, WINDOW, 2).requests
        first = requests[requests["hop"] == 0]
        return first[["case", "arrival", "rep"]].sort_values("case").reset_index(drop=True)

    a, b = cases(un), cases(pair(un)[1])
    pd.testing.assert_frame_equal(a, b)
    assert a["rep"].tolist() == sorted(a["rep"]) and set(a["rep"]) == {0, 1}
    assert a["arrival"].between(0, 2 * WINDOW, inclusive="left").all()  # no warm-up here


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
                               window=WINDOW).set_index("group")
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
                               seed=3, window=WINDOW).set_index("group")
    assert table.loc["preservation period", "data_loss"] == table.loc["total", "data_loss"]
    assert table.loc["total", "data_loss"] > 0
    assert (table.drop(index=["preservation period", "total"])["data_loss"] == 0).all()


def test_an_interrupted_experiment_resumes_without_loss_or_duplicates(
        un, small_world, tmp_path, monkeypatch) -> None:
    variants = several(un)  # one run (of three windows) per variant
    fresh = analyses.compare(variants, small_world, reps=3, seed=4, window=WINDOW)

    def fault(done: int) -> None:
        if done == 2:
            raise KeyboardInterrupt  # the experiment is killed after two finished runs
    monkeypatch.setattr(execution, "AFTER_RESULT", fault)
    store = ShardStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        analyses.compare(variants, small_world, reps=3, seed=4, window=WINDOW, store=store)
    assert len(store.load()) == 2
    monkeypatch.setattr(execution, "AFTER_RESULT", None)
    calls = []
    monkeypatch.setattr(execution, "run_task",
                        lambda task, real=execution.run_task: calls.append(task) or real(task))
    resumed = analyses.compare(variants, small_world, reps=3, seed=4, window=WINDOW,
                               store=store)
    assert [t.name for t in calls] == [v.name for v in variants[2:]]  # only the unfinished
    assert all(t.reps == 3 for t in calls)
    assert len(store.load()) == len(variants)
    pd.testing.assert_frame_equal(resumed, fresh)
    assert len(resumed) == 3 * len(variants)
    assert not resumed.duplicated(["variant", "rep"]).any()


def test_a_failing_run_is_recorded_on_each_of_its_rows_and_the_experiment_goes_on(
        un, small_world, monkeypatch) -> None:
    real = execution.run_task

    def flaky(task):
        if task.name == "longer_period":
            raise RuntimeError("worker died")
        return real(task)
    monkeypatch.setattr(execution, "run_task", flaky)
    table = analyses.compare(pair(un), small_world, reps=3, seed=1, window=WINDOW)
    assert len(table) == 2 * 3
    failed = table[table["error"].notna()]
    assert failed["variant"].tolist() == ["longer_period"] * 3
    assert failed["rep"].tolist() == [0, 1, 2] and (failed["seed"] == 1).all()
    assert failed["error"].eq("RuntimeError: worker died").all()
    assert not failed["transient"].any()
    assert failed["data_loss"].isna().all()
    done = table[table["error"].isna()]
    assert done["variant"].tolist() == [un.name] * 3 and done["data_loss"].notna().all()


def test_the_rows_of_a_task_are_its_windows_or_its_failure_on_each() -> None:
    task = execution.Task(variant_data(), {}, seed=9, window=WINDOW, reps=3)
    assert task.reps == 3 and execution.Task(variant_data(), {}, 9).reps == 1
    summaries = [{"requests": 5}, {"requests": 7}, {"requests": 6}]
    assert execution.rows(task, {"summaries": summaries}) == [
        {"rep": k, "seed": 9, **s} for k, s in enumerate(summaries)]
    failed = execution.failure(ValueError("bad figure"))
    assert execution.rows(task, failed) == [
        {"rep": k, "seed": 9, "error": "ValueError: bad figure", "transient": False}
        for k in range(3)]


def pair(un) -> list:
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    return [un, make_variant(other)]


def several(un) -> list:
    """Four texts that differ in their preservation period: four runs for a comparison."""
    variants = [un]
    for days in (30, 180, 365):
        data = variant_data()
        data["variant"]["name"] = f"period_{days}"
        set_value(data, "preservation.min_days", days)
        variants.append(make_variant(data))
    return variants


def other_b() -> dict:
    b = variant_data()
    b["variant"]["name"] = "b"
    set_value(b, "preservation.min_days", 180)
    set_value(b, "mla.channel", "electronic")
    return b


RUNS = {  # experiment -> a call with the rest of its arguments
    "compare": lambda un, w, **kw: analyses.compare(several(un), w, reps=3, seed=4,
                                                    window=WINDOW, **kw),
    "sweep": lambda un, w, **kw: analyses.sweep(un, w, [
        designs.parse_set("preservation.min_days=30:90:60"),
        designs.parse_set("mla.refusal_grounds.political_offence=on,off")],
        reps=2, seed=2, window=WINDOW, **kw),
    "attribute": lambda un, w, **kw: analyses.attribute(
        un, make_variant(other_b()), w, ["data_loss", "latency_median"], reps=2, seed=2,
        window=WINDOW, **kw),
    "study": lambda un, w, **kw: analyses.study(
        un, w, sensitivity.ParamsFile(method="morris", samples=4, params={
            "preservation.min_days": sensitivity.Range(bounds=(1, 365)),
            "world.cases.age_days.mean": sensitivity.Range(bounds=(30, 180))}),
        ["data_loss"], seed=1, window=WINDOW, **kw),
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
    windows = {"summaries": [{"requests": 3, "data_loss": 0.25, "latency": np.nan},
                             {"requests": 4, "data_loss": 0.5, "latency": 12.0}]}
    store.save("f" * 20, windows)  # a run's result: one summary per window
    again = store.load()["f" * 20]["summaries"]
    assert [{k: type(v) for k, v in s.items()} for s in again] == \
        [{k: type(v) for k, v in s.items()} for s in windows["summaries"]]
    assert again[1] == windows["summaries"][1] and np.isnan(again[0]["latency"])


FLAKY = "period_30"  # the second of several(un): the run that fails


def flaky(monkeypatch, error: Callable[[], Exception], times: int | None) -> list[str]:
    """The run of FLAKY raises ``error()`` its first ``times`` times (always if None); the
    variant of every run is logged."""
    real, names = execution.run_task, []

    def run(task):
        names.append(task.name)
        if task.name == FLAKY and (times is None or names.count(FLAKY) <= times):
            raise error()
        return real(task)
    monkeypatch.setattr(execution, "run_task", run)
    return names


@pytest.mark.parametrize("error", [lambda: MemoryError("no memory"),
                                   lambda: OSError(errno.ENOSPC, "No space left on device")])
def test_a_transient_failure_is_not_stored_and_is_retried(error, un, small_world,
                                                          tmp_path: Path, monkeypatch) -> None:
    variants = several(un)[:3]
    fresh = analyses.compare(variants, small_world, reps=1, seed=1, window=WINDOW)
    names = flaky(monkeypatch, error, times=1)
    store = ShardStore(tmp_path)
    first = analyses.compare(variants, small_world, reps=1, seed=1, window=WINDOW,
                             store=store)
    found = execution.failures(first)
    assert (found.transient, found.deterministic) == (1, 0)
    assert found.first_error == f"{type(error()).__name__}: {error()}"
    assert first.loc[first["variant"] == FLAKY, "transient"].tolist() == [True]
    assert len(store.load()) == 2  # the transient failure was not stored
    second = analyses.compare(variants, small_world, reps=1, seed=1, window=WINDOW,
                              store=store)
    assert names == [un.name, FLAKY, "period_180", FLAKY]  # retried, and only it
    assert execution.failures(second).count == 0 and "error" not in second
    assert second.to_csv() == fresh.to_csv()


def test_a_deterministic_failure_is_stored_once_and_not_run_again(un, small_world,
                                                                  tmp_path: Path,
                                                                  monkeypatch) -> None:
    variants = several(un)[:3]
    names = flaky(monkeypatch, lambda: ValueError("bad figure"), times=None)
    store = ShardStore(tmp_path)
    first = analyses.compare(variants, small_world, reps=1, seed=1, window=WINDOW,
                             store=store)
    assert execution.failures(first) == execution.Failures(0, 1, "ValueError: bad figure")
    assert len(store.load()) == 3
    second = analyses.compare(variants, small_world, reps=1, seed=1, window=WINDOW,
                              store=store)
    assert names == [un.name, FLAKY, "period_180"]  # nothing ran again
    assert second.to_csv() == first.to_csv() and second.dtypes.equals(first.dtypes)


def test_failed_runs_stop_attribution_and_briefing_with_one_line(un, small_world,
                                                                 monkeypatch) -> None:
    def fail(task):
        raise MemoryError("no memory\nat all")
    monkeypatch.setattr(execution, "run_task", fail)
    with pytest.raises(execution.RunsFailed) as info:
        analyses.attribute(un, make_variant(other_b()), small_world, ["data_loss"],
                           reps=1, seed=1, window=WINDOW)
    assert (info.value.count, info.value.transient) == (4, 4)
    assert str(info.value) == ("4 run(s) failed (4 transient: running it again retries them)"
                               "; first: MemoryError: no memory at all")

    def broken(task, real=execution.simulate):
        if task.reps == 2:  # the comparison's one run (two windows); the sweep's have one
            raise ZeroDivisionError("division by zero")
        return real(task)
    monkeypatch.setattr(execution, "simulate", broken)
    with pytest.raises(execution.RunsFailed) as info:
        brief.gather([un], small_world, un.name, reps=2, window=WINDOW, scale=1.0,
                     sweep_reps=1)
    assert str(info.value) == "1 run(s) failed; first: ZeroDivisionError: division by zero"


def test_a_dask_cluster_gives_the_same_table(un, small_world) -> None:
    distributed = pytest.importorskip("distributed")
    variants = pair(un)
    local = analyses.compare(variants, small_world, reps=2, seed=8, window=WINDOW)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = analyses.compare(variants, small_world, reps=2, seed=8, window=WINDOW,
                                   executor=client)
    pd.testing.assert_frame_equal(local, on_dask)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Known indices (Saltelli et al. 2008), through the code path the simulator uses."""
    prob = sensitivity.problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    result = sensitivity.indices(prob, "sobol", 4096, 1, ishigami, ["y"])
    assert list(result.columns) == ["factor", "metric", "S1", "S1_conf", "ST", "ST_conf"]
    assert sensitivity.convergence(result) == []  # every half-width within 0.05
    table = result.set_index("factor")
    assert table.loc["x1", "S1"] == pytest.approx(0.314, abs=0.03)
    assert table.loc["x2", "S1"] == pytest.approx(0.442, abs=0.03)
    assert table.loc["x3", "S1"] == pytest.approx(0.0, abs=0.03)
    assert table.loc["x1", "ST"] == pytest.approx(0.558, abs=0.03)
    assert table.loc["x3", "ST"] == pytest.approx(0.244, abs=0.03)
    assert list(table.index) == ["x1", "x2", "x3"]  # ranked by total index


def test_pce_indices_of_the_ishigami_function() -> None:
    """The metamodel's Sobol indices, through the path the shipped study takes, within 0.02
    of the known ones; every half-width under 0.05 and S1 <= ST within the intervals."""
    prob = sensitivity.problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    result = sensitivity.indices(prob, "pce", 1024, 1, ishigami, ["y"])
    table = result.set_index("factor")
    for name, s1, st in (("x1", 0.314, 0.558), ("x2", 0.442, 0.442), ("x3", 0.0, 0.244)):
        assert table.loc[name, "S1"] == pytest.approx(s1, abs=0.02)
        assert table.loc[name, "ST"] == pytest.approx(st, abs=0.02)
    assert (table["ST_conf"] < 0.05).all()
    assert (table["S1"] - table["ST"] <= table["S1_conf"] + table["ST_conf"]).all()
    assert table["explained"].iloc[0] > 0.99


def test_a_pce_of_a_polynomial_is_exact() -> None:
    """y = x1 + 2 x2 + x1 x3 on [-1, 1]^3: variances 1/3, 4/3 and 1/9 of 16/9 in all."""
    prob = sensitivity.problem(["x1", "x2", "x3"], [(-1.0, 1.0)] * 3)
    table = sensitivity.indices(
        prob, "pce", 200, 1, lambda x: x[:, 0] + 2 * x[:, 1] + x[:, 0] * x[:, 2],
        ["y"]).set_index("factor")
    total = 1 / 3 + 4 / 3 + 1 / 9
    assert table.loc["x1", "S1"] == pytest.approx((1 / 3) / total, abs=1e-9)
    assert table.loc["x1", "ST"] == pytest.approx((1 / 3 + 1 / 9) / total, abs=1e-9)
    assert table.loc["x2", "ST"] == pytest.approx((4 / 3) / total, abs=1e-9)
    assert table.loc["x3", "S1"] == pytest.approx(0, abs=1e-9)
    assert table.loc["x3", "ST"] == pytest.approx((1 / 9) / total, abs=1e-9)


def test_a_sample_too_small_is_flagged_as_not_converged() -> None:
    """A thousand base samples of the Ishigami function do not give half-widths under 0.05."""
    prob = sensitivity.problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    small = sensitivity.indices(prob, "sobol", 1024, 1, ishigami, ["y"])
    warnings = sensitivity.convergence(small)
    assert any("wider than +/- 0.05" in w for w in warnings)
    assert sensitivity.runs_of("sobol", 16, 3) == 16 * 5 == len(
        sensitivity.sample(prob, "sobol", 16, 1))


def test_sampled_sweep_and_a_simulator_sensitivity_study(un, small_world) -> None:
    settings = [designs.parse_set("preservation.min_days=1:365"),
                designs.parse_set("world.central_authorities.staff=1:30")]
    table = analyses.sweep(un, small_world, settings, reps=2, seed=1, window=WINDOW,
                           design="lhs:3")
    assert len(table) == 3 * 2
    assert table["world.central_authorities.staff"].between(1, 30).all()
    params = sensitivity.ParamsFile(method="morris", samples=4, params={
        "preservation.min_days": sensitivity.Range(bounds=(1, 365)),
        "world.cases.age_days.mean": sensitivity.Range(bounds=(30, 180))})
    indices = analyses.study(un, small_world, params, ["data_loss"], seed=1, window=WINDOW)
    assert set(indices["factor"]) == set(params.params)
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


def test_the_shipped_study_converges() -> None:
    """The shipped study's indices (tests/sensitivity_baseline.csv, made by the command in
    its .json from the study and the world as they are now): every total index within +/-
    0.05, S1 <= ST within the intervals, over 90% of each metric's variance predicted."""
    meta = json.loads((ROOT / "tests" / "sensitivity_baseline.json").read_text())
    for key, path in (("study_sha256", "scenarios/studies/sensitivity.toml"),
                      ("world_sha256", "scenarios/worlds/default.toml")):
        digest = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        assert digest == meta[key], f"{path} changed: rerun `{meta['command']}`"
    table = pd.read_csv(ROOT / "tests" / "sensitivity_baseline.csv")
    params = sensitivity.load_params(ROOT / "scenarios" / "studies" / "sensitivity.toml")
    assert len(params.params) >= 8
    assert set(table["factor"]) == set(params.params)
    assert set(table["metric"]) == set(params.metrics)
    assert sensitivity.convergence(table) == []
    assert (table["ST_conf"] < 0.05).all()
    assert (table["S1"] - table["ST"] <= table["S1_conf"] + table["ST_conf"]).all()
