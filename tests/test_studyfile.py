"""The study file (recorder/wire/studyfile.py): every key read, every mistake a one-line message.

A study file is the first thing a new user writes: a mistake must name the
key and say what it should be, on one line (``uxlab study add`` prints it as
its error), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recorder.wire.studyfile import (
    Study,
    StudyError,
    Task,
    Variant,
    parse_study,
    read_study,
    study_json,
)

EVERY_KEY = """\
id = "checkout-2026"
name = "Checkout redesign"
origins = ["https://proto.example", "http://localhost:5173/ignored/path"]
capture_input_values = true

[[variants]]
id = "A"
url = "https://proto.example/A/"

[[variants]]
id = "B.2"
url = "https://proto.example/B/?lang=de"

[[tasks]]
id = "buy-shoes"
prompt = "Buy a pair of running shoes."
success = { url = "/cart" }
expected_path = ["/", "/shoes", "/cart"]

[[tasks]]
id = "find_help"
success = { click = "#returns-days" }

[[tasks]]
id = "subscribe"
success = { event = "subscribed" }

[questionnaires]
after_task = "SEQ"
after_session = ["SUS", "UMUX-Lite", "NPS"]
"""

MINIMAL: dict[str, Any] = {
    "id": "s",
    "variants": [{"id": "A", "url": "http://p.test/"}],
    "tasks": [{"id": "t"}],
}


def test_every_key_of_a_study_file(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(EVERY_KEY)
    study, text = read_study(path)
    assert text == EVERY_KEY  # kept as written, to show and to edit
    assert study == Study(
        id="checkout-2026", name="Checkout redesign",
        origins=["https://proto.example", "http://localhost:5173"],  # an origin, whatever the path
        variants=[Variant("A", "https://proto.example/A/"), Variant("B.2", "https://proto.example/B/?lang=de")],
        tasks=[Task("buy-shoes", "Buy a pair of running shoes.", {"url": "/cart"}, ["/", "/shoes", "/cart"]),
               Task("find_help", "", {"click": "#returns-days"}, []), Task("subscribe", "", {"event": "subscribed"})],
        questionnaires={"after_task": "SEQ", "after_session": ["SUS", "UMUX-Lite", "NPS"]},
        capture_values=True,
    )  # fmt: skip
    assert study.variant("B.2").url == "https://proto.example/B/?lang=de"
    with pytest.raises(KeyError):
        study.variant("C")
    assert parse_study(study_json(study)) == study  # the console's editor round trip


def test_defaults_of_a_minimal_study() -> None:
    study = parse_study(MINIMAL)
    assert (study.name, study.origins, study.questionnaires, study.capture_values) == ("s", ["http://p.test"], {},
                                                                                      False)  # fmt: skip
    assert study.tasks == [Task("t")]
    one = parse_study({**MINIMAL, "questionnaires": {"after_session": "SUS"}})
    assert one.questionnaires == {"after_session": ["SUS"]}  # one name is a list of one
    origins = parse_study({**MINIMAL, "variants": [{"id": "A", "url": "http://p.test/a"},
                                                   {"id": "B", "url": "https://q.test:8443/b"}]}).origins  # fmt: skip
    assert origins == ["http://p.test", "https://q.test:8443"]


def doc(**changes: Any) -> dict[str, Any]:
    out = {**MINIMAL, **changes}
    return {k: v for k, v in out.items() if v is not ...}


def task(**changes: Any) -> dict[str, Any]:
    return doc(tasks=[{"id": "t", **changes}])


@pytest.mark.parametrize(("study", "message"), [
    (doc(id=...), "id: must be an id of letters, digits, '-', '_' or '.' (at most 64)"),
    (doc(id="has space"), "id: must be an id of letters"),
    (doc(id="-starts-with-dash"), "id: must be an id of letters"),
    (doc(id="x" * 65), "id: must be an id of letters"),
    (doc(id=7), "id: must be an id of letters"),
    (doc(name=["N"]), "name: must be a string"),
    (doc(variants=...), "variants: give at least one [[variants]] with id and url"),
    (doc(variants=[]), "variants: give at least one [[variants]] with id and url"),
    (doc(variants=["A"]), "variants[0]: must be a table"),
    (doc(variants=[{"url": "http://p.test/"}]), "variants[0].id: must be an id"),
    (doc(variants=[{"id": "A"}]), "variants[0].url: must be a URL string"),
    (doc(variants=[{"id": "A", "url": "ftp://p.test/"}]), "variants[0].url: must be an http(s) URL, got 'ftp://p.test/'"),
    (doc(variants=[{"id": "A", "url": "/A/"}]), "variants[0].url: must be an http(s) URL, got '/A/'"),
    (doc(variants=[{"id": "A", "url": "http://[p.test/A/"}]), "variants[0].url: must be an http(s) URL, got 'http://[p.test/A/'"),
    (doc(variants=[{"id": "A", "url": "http://p.test/"}, {"id": "A", "url": "http://p.test/2"}]),
     "variants: id 'A' appears twice"),
    (doc(tasks=...), "tasks: give at least one [[tasks]] with an id"),
    (doc(tasks=[]), "tasks: give at least one [[tasks]] with an id"),
    (doc(tasks=["t"]), "tasks[0]: must be a table"),
    (doc(tasks=[{"id": "t"}, {"id": "t"}]), "tasks: id 't' appears twice"),
    (doc(tasks=[{"id": "t"}, {"prompt": "no id"}]), "tasks[1].id: must be an id"),
    (task(prompt=3), "tasks[0].prompt: must be a string"),
    (task(success={"page": "/cart"}), "tasks[0].success.page: unknown key (known: url, click, event)"),
    (task(success={"url": "/cart", "click": "#buy"}), "tasks[0].success: must be one of"),
    (task(success="/cart"), "tasks[0].success: must be one of"),
    (task(success={"click": ""}), "tasks[0].success.click: must be a non-empty string"),
    (task(success={"url": "cart"}), "tasks[0].success.url: must be a page key starting with '/', got 'cart'"),
    (task(expected_path="/ > /cart"), "tasks[0].expected_path: must be a list of page keys"),
    (task(expected_path=["/", "cart"]), "tasks[0].expected_path[1]: must be a page key starting with '/'"),
    (doc(origins="https://p.test"), "origins: must be a list of origins such as 'https://proto.example'"),
    (doc(origins=["p.test"]), "origins[0]: must be an http(s) URL, got 'p.test'"),
    (doc(origins=["http://[p.test"]), "origins[0]: must be an http(s) URL, got 'http://[p.test'"),
    (doc(capture_input_values="yes"), "capture_input_values: must be true or false"),
    (doc(questionnaires=["SUS"]), "questionnaires: must be a table"),
    (doc(questionnaires={"after_task": "SUS"}), "questionnaires.after_task: must be one of SEQ"),
    (doc(questionnaires={"after_session": ["SUS", "CSAT"]}),
     "questionnaires.after_session: must be among SUS, UMUX-Lite, NPS"),
    (doc(questionnaires={"after_sesion": "SUS"}), "questionnaires.after_sesion: unknown key"),
])  # fmt: skip
def test_a_mistake_names_its_key_on_one_line(study: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyError) as err:
        parse_study(study)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("content", "message"), [
    (b'id = "s"\nname = \n', "not valid TOML (Invalid value (at line 2, column 8))"),
    (b'id = "s"\n[[variants]\n', "not valid TOML ("),
    (b"\xff\xfe binary", "not a text file (a study file is TOML in UTF-8)"),
    (b'id = "s"\n', "variants: give at least one [[variants]] with id and url"),
])  # fmt: skip
def test_a_file_that_is_no_study_in_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "study.toml"
    path.write_bytes(content)
    with pytest.raises(StudyError) as err:
        read_study(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_missing_file_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"^cannot read .*nope\.toml: No such file or directory$"):
        read_study(tmp_path / "nope.toml")
