"""Statistics on ``uxlab simulate`` studies: a real difference is found, a null one rarely.

The data go the whole way: simulated sessions written by the collector's
store into a real SQLite file, analyzed by the numba kernels, compared by
analyzer.stats.compare.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.metrics.analyze import analyze
from recorder.storage import store
from tests.conftest import STUDY_DOC
from tests.scripted import Recorder


def comparisons(db: Path, study: str) -> dict[tuple[str, str], dict[str, object]]:
    rows = analyze(db, study, cache=False).comparisons
    return {(str(r["task"]), str(r["metric"])): r for r in rows}


def test_a_better_variant_is_found(db_path: Path) -> None:
    # 50 per variant: B's true time ratio (38 s / 55 s) is then about 3.7 standard errors from 1.
    with Recorder(db_path, STUDY_DOC) as rec:
        rec.simulate(participants=100, seed=2026)
    found = comparisons(db_path, STUDY_DOC["id"])
    for task in ("buy-shoes", "find-help", "subscribe"):
        time = found[(task, "time")]
        # B's times are shorter: the ratio B/A and its whole interval lie below 1.
        assert time["difference"] < 1 and time["ci_high"] < 1, time  # type: ignore[operator]
        assert time["p_value"] < 0.05  # type: ignore[operator]
        seq = found[(task, "seq")]
        assert seq["difference"] > 0 and seq["ci_low"] > 0, seq  # type: ignore[operator]
    pooled_success = [
        found[(t, "success_rate")]["difference"] for t in ("buy-shoes", "find-help", "subscribe")
    ]
    assert all(d > 0 for d in pooled_success), pooled_success  # type: ignore[operator]
    assert "higher" in str(found[("buy-shoes", "seq")]["reading"])


@pytest.mark.slow
def test_false_positive_rate_stays_near_five_percent(db_path: Path) -> None:
    conn = store.open_db(db_path)
    seeds = range(120)
    rejected = {"time": 0, "seq": 0, "success_rate": 0}
    tested = dict.fromkeys(rejected, 0)
    for seed in seeds:
        study = f"null-{seed}"
        Recorder(db_path, {**STUDY_DOC, "id": study}, conn=conn).simulate(20, seed=seed, same=True)
        for (_, metric), row in comparisons(db_path, study).items():
            if metric in rejected and row["p_value"] is not None:
                tested[metric] += 1
                rejected[metric] += row["p_value"] < 0.05  # type: ignore[operator]
    rates = {m: rejected[m] / tested[m] for m in rejected}
    assert min(tested.values()) >= 300, tested
    # 360 tests per metric: a true 5% rate lies in 1.5%..9% with probability > 99.5%.
    assert 0.015 <= rates["time"] <= 0.09, rates
    assert 0.015 <= rates["seq"] <= 0.09, rates
    # N-1 (Campbell 2007; Fisher-Irwin only below an expected count of 1): at most 9%.
    assert rates["success_rate"] <= 0.09, rates
