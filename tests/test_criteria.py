"""Success criteria: the cases the console's live page also passes, coded by the analyzer's kernels.

Each case of ``tests/cases/criteria.json`` becomes a task whose ``success`` is
the case's and a session in which the moderator starts that task and the
participant sends the case's event, nobody ending it: the attempt is coded
``criteria`` exactly where the console's ``meets`` says the event meets it,
``uncoded`` elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analyzer.metrics.analyze import analyze
from tests.scripted import Recorder

CASES = json.loads((Path(__file__).parent / "cases" / "criteria.json").read_text())


def wire_event(event: dict[str, Any], t: float) -> dict[str, Any]:
    """A case's event (named as the live feed names it) as the snippet sends it."""
    if event["type"] == "page":
        return {"type": "page", "t": t, "url": event["url"]}
    if event["type"] == "click":
        return {"type": "click", "t": t, "sel": event["sel"], "interactive": True, "x": 1, "y": 1}
    return {"type": "custom", "t": t, "name": event["label"]}


def test_the_kernels_code_an_attempt_criteria_where_the_console_says_it_meets(
    db_path: Path,
) -> None:
    cases = CASES["cases"]
    study = {
        "id": "criteria",
        "name": "Criteria",
        "origins": ["http://h"],
        "variants": [{"id": "A", "url": CASES["variant_url"]}],
        "tasks": [
            {"id": f"t{i}", "prompt": "Do it.", "success": c["success"]}
            for i, c in enumerate(cases)
        ],
    }
    with Recorder(db_path, study) as rec:
        for i, case in enumerate(cases):
            info = rec.session(f"P{i}", "A")
            rec.send(
                info,
                [{"type": "task_start", "t": 100, "task": f"t{i}"}],
                page="console",
                moderator=True,
            )
            rec.send(info, [wire_event(case["event"], 200)])
    coded = {a["task"]: a["coded_by"] for a in analyze(db_path, "criteria", cache=False).attempts}
    expected = {f"t{i}": "criteria" if c["meets"] else None for i, c in enumerate(cases)}
    wrong = [
        (cases[int(task[1:])], coded[task]) for task in expected if coded[task] != expected[task]
    ]
    assert wrong == []
