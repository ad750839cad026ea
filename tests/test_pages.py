"""Page keys (recorder/wire/pages.py) against the shared cases that the console's JS twin also passes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from analyzer.metrics.analyze import analyze
from recorder.storage import store
from recorder.wire import pages
from recorder.wire.studyfile import StudyError, parse_study
from tests.scripted import Recorder

CASES = json.loads((Path(__file__).parent / "cases" / "page_keys.json").read_text())


def _pages(case: dict[str, Any]) -> pages.Pages:
    doc = case.get("pages", {})
    return pages.Pages(hash_routes=doc.get("hash_routes", "auto"),
                       patterns=tuple(doc.get("patterns", ())), aliases=doc.get("aliases", {}))  # fmt: skip


@pytest.mark.parametrize("case", CASES["urls"], ids=lambda c: c["url"])
def test_page_key(case: dict[str, Any]) -> None:
    assert pages.page_key(case["url"], case["variant_url"], _pages(case)) == case["key"]


@pytest.mark.parametrize("case", CASES["written"], ids=lambda c: c["written"])
def test_written_key(case: dict[str, Any]) -> None:
    assert pages.written_key(case["written"], _pages(case)) == case["key"]


@pytest.mark.parametrize("case", CASES["matches"], ids=lambda c: f"{c['pattern']}~{c['key']}")
def test_matches(case: dict[str, Any]) -> None:
    assert pages.matches(case["pattern"], case["key"]) is case["matches"]


@pytest.mark.parametrize(("written", "mode", "problem"), [
    ("/#/completed", "auto", False),
    ("/#completed", "auto", True),
    ("/#completed", True, False),
    ("/#/completed", False, True),
    ("/cart", False, False),
    ("/#/", False, False),
])  # fmt: skip
def test_fragment_problem(written: str, mode: str | bool, problem: bool) -> None:
    found = pages.fragment_problem(written, pages.Pages(hash_routes=mode))
    assert (found is not None) is problem


# -- the rule used everywhere: study file, paths, criteria --------------------------------------

APP = "http://proto.test/app/"
BASE_DOC: dict[str, Any] = {"id": "notes", "variants": [{"id": "A", "url": APP}]}


def study_doc(
    tasks: list[dict[str, Any]], pages_doc: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {**BASE_DOC, "tasks": tasks, **({"pages": pages_doc} if pages_doc else {})}


@pytest.mark.parametrize(("doc", "message"), [
    ({**study_doc([{"id": "t"}]), "questionaires": {}}, "questionaires: unknown key (did you mean 'questionnaires'?)"),
    (study_doc([{"id": "t", "sucess": {"url": "/"}}]), "tasks[0].sucess: unknown key (did you mean 'success'?)"),
    (study_doc([{"id": "t", "success": {"ulr": "/"}}]), "tasks[0].success.ulr: unknown key (did you mean 'url'?)"),
    (study_doc([{"id": "t"}], {"hash_route": True}), "pages.hash_route: unknown key (did you mean 'hash_routes'?)"),
    (study_doc([{"id": "t"}], {"hash_routes": "yes"}), "pages.hash_routes: must be"),
    (study_doc([{"id": "t"}], {"patterns": "/note/*"}), "pages.patterns: must be a list"),
    (study_doc([{"id": "t"}], {"aliases": {"index.html": "/"}}), "pages.aliases.index.html: must be a page key"),
    (study_doc([{"id": "t", "expected_path": ["/", "/note/*"]}]), "tasks[0].expected_path[1]: '/note/*' is a pattern"),
    (study_doc([{"id": "t", "success": {"url": "/#done"}}]), "tasks[0].success.url: '/#done' has a fragment that is not a route"),
    (study_doc([{"id": "t", "success": {"url": "/#/done"}}], {"hash_routes": False}), "hash_routes = false"),
    ({**study_doc([{"id": "t"}]), "variants": [{"id": "A", "url": APP, "adress": 1}]}, "variants[0].adress: unknown key"),
])  # fmt: skip
def test_study_file_mistakes_name_the_key(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyError) as caught:
        parse_study(doc)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_pages_survive_the_database(fresh_db: sqlite3.Connection) -> None:
    doc = study_doc([{"id": "t"}], {"hash_routes": True, "patterns": ["/note/:id/"],
                                    "aliases": {"/index.html": "/"}})  # fmt: skip
    store.save_study(fresh_db, parse_study(doc))
    got = store.load_study(fresh_db, "notes").pages
    assert got == pages.Pages(
        hash_routes=True, patterns=("/note/:id",), aliases={"/index.html": "/"}
    )
    store.save_study(fresh_db, parse_study(study_doc([{"id": "t"}])))
    assert store.load_study(fresh_db, "notes").pages == pages.Pages()


def attempt(rec: Recorder, participant: str, urls: list[str], outcome: str | None = None) -> None:
    """One attempt of task ``t``: a page event per URL, 1 s apart, ended by the moderator or not."""
    info = rec.session(participant, "A")
    rec.send(info, [{"type": "page", "t": 1000.0 * i, "url": APP + u, "spa": i > 0}
                    for i, u in enumerate(urls)])  # fmt: skip
    coded = [{"type": "task_start", "t": 500, "task": "t"}]
    if outcome:
        coded.append({"type": "task_end", "t": 1000.0 * len(urls), "task": "t", "outcome": outcome})
    rec.send(info, coded, page="console", moderator=True)


def attempts(db: Path) -> list[dict[str, Any]]:
    return [{k: row[k] for k in ("outcome", "coded_by", "time_s", "pages", "distinct_pages",
                                 "backtracks", "path_edit_distance", "path")}
            for row in analyze(db, "notes", cache=False).table("attempts")]  # fmt: skip


def test_hash_routes_are_pages_and_reach_their_criterion(db_path: Path) -> None:
    doc = study_doc([{"id": "t", "success": {"url": "/#/completed"},
                      "expected_path": ["/", "/#/completed"]}])  # fmt: skip
    rec = Recorder(db_path, doc)
    attempt(
        rec, "P1", ["", "#/active", "#/completed"]
    )  # the criterion at 2 s, not at the route change
    attempt(rec, "P2", ["#/", "#/active"])  # never reached: uncoded, not a false success
    rec.close()
    assert attempts(db_path) == [
        {"outcome": "success", "coded_by": "criteria", "time_s": 1.5, "pages": 3, "distinct_pages": 3,
         "backtracks": 0, "path_edit_distance": 1, "path": "/ > /#/active > /#/completed"},
        # uncoded: no path figures (issue 12, item 7)
        {"outcome": "uncoded", "coded_by": None, "time_s": None, "pages": 2, "distinct_pages": 2,
         "backtracks": 0, "path_edit_distance": None, "path": "/ > /#/active"},
    ]  # fmt: skip


def test_patterns_and_aliases_key_paths_and_criteria(db_path: Path) -> None:
    doc = study_doc([{"id": "t", "success": {"url": "/note/*/edit"},
                      "expected_path": ["/", "/note/:id", "/note/*/edit"]}],
                    {"patterns": ["/note/:id", "/note/*/edit"], "aliases": {"/index.html": "/"}})  # fmt: skip
    rec = Recorder(db_path, doc)
    attempt(rec, "P1", ["index.html", "note/du30zwl", "note/du30zwl/edit"])
    # One note after another is one page (a repeated key is no step), so P2 goes home between.
    attempt(rec, "P2", ["", "note/a1", "", "note/b2", "note/b2/edit"])
    rec.close()
    assert attempts(db_path) == [
        {"outcome": "success", "coded_by": "criteria", "time_s": 1.5, "pages": 3, "distinct_pages": 3,
         "backtracks": 0, "path_edit_distance": 0, "path": "/ > /note/:id > /note/*/edit"},
        {"outcome": "success", "coded_by": "criteria", "time_s": 3.5, "pages": 5, "distinct_pages": 3,
         "backtracks": 2, "path_edit_distance": 2, "path": "/ > /note/:id > / > /note/:id > /note/*/edit"},
    ]  # fmt: skip


def test_a_wildcard_stored_before_pages_existed_does_not_crash(db_path: Path) -> None:
    rec = Recorder(db_path, study_doc([{"id": "t", "expected_path": ["/", "/note/x"]}]))
    attempt(rec, "P1", ["", "note/a1"], "failure")  # coded, so that it has path figures
    # A study stored by an older uxlab, whose check let a wildcard through.
    rec.conn.execute('UPDATE tasks SET expected_path = \'["/", "/note/*"]\'')
    rec.close()
    assert attempts(db_path)[0]["path_edit_distance"] == 1
