"""The study file: TOML read with ``tomllib``, checked field by field.

A study names its variants (each with the URL its pages start with), its
tasks (prompt, optional success criteria and expected path) and the
questionnaires the moderator asks. See shared/DESIGN.md, "Study file".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SUCCESS_KEYS = ("url", "click", "event")
AFTER_TASK = ("SEQ",)
AFTER_SESSION = ("SUS", "UMUX-Lite", "NPS")


class StudyError(ValueError):
    """A study file that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One design under test and the URL its pages start with."""

    id: str
    url: str


@dataclass(frozen=True, slots=True)
class Task:
    """Something a participant is asked to do."""

    id: str
    prompt: str = ""
    success: dict[str, str] = field(default_factory=dict)
    expected_path: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Replay:
    """A study that records the page itself (``replay = true``) and what it hides.

    ``mask`` selectors have their text replaced by asterisks, ``block`` selectors
    are recorded as empty boxes; both add to ``[data-uxlab-mask]`` and
    ``[data-uxlab-ignore]``, which always apply. Inputs are always masked.
    """

    mask: tuple[str, ...] = ()
    block: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Study:
    """One usability test: its variants, tasks and questionnaires."""

    id: str
    name: str
    origins: list[str]
    variants: list[Variant]
    tasks: list[Task]
    questionnaires: dict[str, Any] = field(default_factory=dict)
    capture_values: bool = False
    replay: Replay | None = None  # None: the study records events only

    def variant(self, variant_id: str) -> Variant:
        """The variant with this id (KeyError when there is none)."""
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise KeyError(variant_id)


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise StudyError(f"{where}: must be an id of letters, digits, '-', '_' or '.' (at most 64)")
    return value


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise StudyError(f"{where}: must be a URL string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StudyError(f"{where}: must be an http(s) URL, got {value!r}")
    return value


def _path(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise StudyError(f"{where}: must be a page key starting with '/', got {value!r}")
    return value


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _task(doc: Any, where: str) -> Task:
    if not isinstance(doc, dict):
        raise StudyError(f"{where}: must be a table")
    success = doc.get("success", {})
    if (
        not isinstance(success, dict)
        or len(success) > 1
        or any(k not in SUCCESS_KEYS for k in success)
    ):
        raise StudyError(
            f"{where}.success: must be one of {{url = ...}}, {{click = ...}}, {{event = ...}}"
        )
    for key, value in success.items():
        if not isinstance(value, str) or not value:
            raise StudyError(f"{where}.success.{key}: must be a non-empty string")
    if "url" in success:
        _path(success["url"], f"{where}.success.url")
    expected = doc.get("expected_path", [])
    if not isinstance(expected, list):
        raise StudyError(f"{where}.expected_path: must be a list of page keys")
    prompt = doc.get("prompt", "")
    if not isinstance(prompt, str):
        raise StudyError(f"{where}.prompt: must be a string")
    return Task(
        id=_ident(doc.get("id"), f"{where}.id"),
        prompt=prompt,
        success=dict(success),
        expected_path=[_path(p, f"{where}.expected_path[{i}]") for i, p in enumerate(expected)],
    )


def _questionnaires(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise StudyError("questionnaires: must be a table")
    out: dict[str, Any] = {}
    if "after_task" in doc:
        if doc["after_task"] not in AFTER_TASK:
            raise StudyError(f"questionnaires.after_task: must be one of {', '.join(AFTER_TASK)}")
        out["after_task"] = doc["after_task"]
    if "after_session" in doc:
        items = doc["after_session"]
        items = [items] if isinstance(items, str) else items
        if not isinstance(items, list) or any(i not in AFTER_SESSION for i in items):
            raise StudyError(
                f"questionnaires.after_session: must be among {', '.join(AFTER_SESSION)}"
            )
        out["after_session"] = items
    unknown = set(doc) - {"after_task", "after_session"}
    if unknown:
        raise StudyError(f"questionnaires.{sorted(unknown)[0]}: unknown key")
    return out


def _unique(items: list[Any], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise StudyError(f"{what}: id {item.id!r} appears twice")
        seen.add(item.id)


def parse_study(doc: dict[str, Any]) -> Study:
    """Check a parsed study document and build the :class:`Study`."""
    variants_doc = doc.get("variants")
    if not isinstance(variants_doc, list) or not variants_doc:
        raise StudyError("variants: give at least one [[variants]] with id and url")
    variants = []
    for i, v in enumerate(variants_doc):
        if not isinstance(v, dict):
            raise StudyError(f"variants[{i}]: must be a table")
        variants.append(
            Variant(
                _ident(v.get("id"), f"variants[{i}].id"), _url(v.get("url"), f"variants[{i}].url")
            )
        )
    tasks_doc = doc.get("tasks")
    if not isinstance(tasks_doc, list) or not tasks_doc:
        raise StudyError("tasks: give at least one [[tasks]] with an id")
    tasks = [_task(t, f"tasks[{i}]") for i, t in enumerate(tasks_doc)]
    _unique(variants, "variants")
    _unique(tasks, "tasks")
    origins = doc.get("origins")
    if origins is None:
        origins = sorted({origin_of(v.url) for v in variants})
    if not isinstance(origins, list):
        raise StudyError("origins: must be a list of origins such as 'https://proto.example'")
    origins = [origin_of(_url(o, f"origins[{i}]")) for i, o in enumerate(origins)]
    name = doc.get("name", doc.get("id"))
    if not isinstance(name, str):
        raise StudyError("name: must be a string")
    capture = doc.get("capture_input_values", False)
    if not isinstance(capture, bool):
        raise StudyError("capture_input_values: must be true or false")
    return Study(
        replay=_replay(doc),
        id=_ident(doc.get("id"), "id"),
        name=name,
        origins=origins,
        variants=variants,
        tasks=tasks,
        questionnaires=_questionnaires(doc.get("questionnaires", {})),
        capture_values=capture,
    )


SELECTOR_RE = re.compile(r"^[^{}<>;]{1,200}$")  # no CSS blocks or markup: selectors only


def _selectors(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise StudyError(f"{key}: must be a list of CSS selectors such as '.account-number'")
    for item in items:
        if not SELECTOR_RE.match(item.strip()):
            raise StudyError(f"{key}: {item!r} is not a CSS selector")
    return tuple(item.strip() for item in items)


def _replay(doc: dict[str, Any]) -> Replay | None:
    """``replay = true`` with its optional ``replay_mask`` and ``replay_block`` selectors."""
    on = doc.get("replay", False)
    if not isinstance(on, bool):
        raise StudyError("replay: must be true or false")
    mask, block = _selectors(doc, "replay_mask"), _selectors(doc, "replay_block")
    if not on:
        if mask or block:
            raise StudyError("replay_mask, replay_block: set replay = true to record the page")
        return None
    return Replay(mask=mask, block=block)


def read_study(path: str | Path) -> tuple[Study, str]:
    """Read and check a study file; return the study and the file's text."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StudyError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a text file (a study file is TOML in UTF-8)") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path}: not valid TOML ({exc})") from None
    return parse_study(doc), text
