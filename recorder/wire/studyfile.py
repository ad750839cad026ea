"""The study file: TOML read with ``tomllib``, checked field by field.

A study names its variants (each with the URL its pages start with), its
tasks (prompt, optional success criteria and expected path) and the
questionnaires the moderator asks. See the README, "Study file".
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from recorder.errors import UxlabError
from recorder.wire.pages import HASH_MODES, Pages, fragment_problem, is_pattern, written_key

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SUCCESS_KEYS = ("url", "click", "event")
AFTER_TASK = ("SEQ",)
AFTER_SESSION = ("SUS", "UMUX-Lite", "NPS")
#: ``design``: "between" (default; each participant uses one variant) or "within" (all).
DESIGNS = ("between", "within")
# Every key a study file may hold, per table: any other is a mistake (a typo such as `sucess`).
# `replay` is a second-wave key (recordings), read where it is built.
TOP_KEYS = ("id", "name", "origins", "variants", "tasks", "questionnaires", "pages", "findings",
            "capture_input_values", "design", "replay", "replay_mask", "replay_block")  # fmt: skip
VARIANT_KEYS = ("id", "url")
TASK_KEYS = ("id", "prompt", "success", "expected_path")
QUESTIONNAIRE_KEYS = ("after_task", "after_session")
PAGES_KEYS = ("hash_routes", "patterns", "aliases")


class StudyError(UxlabError, ValueError):
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
    design: str = "between"
    pages: Pages = field(default_factory=Pages)
    replay: Replay | None = None  # None: the study records events only

    def variant(self, variant_id: str) -> Variant:
        """The variant with this id (KeyError when there is none)."""
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise KeyError(variant_id)


def _known(doc: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    """Refuse a key the table does not have, naming the nearest known one."""
    for key in doc:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {', '.join(known)})"
            raise StudyError(f"{where}{key}: unknown key{hint}")


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise StudyError(f"{where}: must be an id of letters, digits, '-', '_' or '.' (at most 64)")
    return value


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise StudyError(f"{where}: must be a URL string")
    if not _http_url(value):
        raise StudyError(f"{where}: must be an http(s) URL, got {value!r}")
    return value


def _http_url(value: str) -> bool:
    """An http(s) URL with a host, that urlsplit reads, port included."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises for a port that is no number or past 65535
    except ValueError:  # e.g. an unclosed "[" host, port 99999999
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _path(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise StudyError(f"{where}: must be a page key starting with '/', got {value!r}")
    return value


def _key(value: Any, where: str, pages: Pages) -> str:
    path = _path(value, where)
    problem = fragment_problem(path, pages)
    if problem:
        raise StudyError(f"{where}: {path!r} {problem}")
    return path


def _pages(doc: Any) -> Pages:
    if not isinstance(doc, dict):
        raise StudyError("pages: must be a table")
    _known(doc, PAGES_KEYS, "pages.")
    mode = doc.get("hash_routes", "auto")
    if not any(mode is m or (isinstance(m, str) and mode == m) for m in HASH_MODES):
        raise StudyError('pages.hash_routes: must be "auto", true or false')
    bare = Pages(hash_routes=mode)
    patterns = doc.get("patterns", [])
    if not isinstance(patterns, list):
        raise StudyError('pages.patterns: must be a list of page patterns such as "/note/*"')
    patterns = [written_key(_key(p, f"pages.patterns[{i}]", bare), bare)
                for i, p in enumerate(patterns)]  # fmt: skip
    aliases = doc.get("aliases", {})
    if not isinstance(aliases, dict):
        raise StudyError('pages.aliases: must be a table such as { "/index.html" = "/" }')
    pairs = {}
    for name, page in aliases.items():
        where = f"pages.aliases.{name}"
        pairs[written_key(_key(name, where, bare), bare)] = written_key(
            _key(page, where, bare), bare
        )
    return Pages(hash_routes=mode, patterns=tuple(patterns), aliases=pairs)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _task(doc: Any, where: str, pages: Pages) -> Task:
    if not isinstance(doc, dict):
        raise StudyError(f"{where}: must be a table")
    _known(doc, TASK_KEYS, f"{where}.")
    success = doc.get("success", {})
    if isinstance(success, dict) and len(success) == 1:
        _known(success, SUCCESS_KEYS, f"{where}.success.")
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
        _key(success["url"], f"{where}.success.url", pages)
    expected = doc.get("expected_path", [])
    if not isinstance(expected, list):
        raise StudyError(f"{where}.expected_path: must be a list of page keys")
    for i, step in enumerate(expected):
        _key(step, f"{where}.expected_path[{i}]", pages)
        if is_pattern(written_key(step, pages)) and written_key(step, pages) not in pages.patterns:
            raise StudyError(f"{where}.expected_path[{i}]: {step!r} is a pattern; list it in"
                             " [pages] patterns so that the pages it names are one step")  # fmt: skip
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
    _known(doc, QUESTIONNAIRE_KEYS, "questionnaires.")
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
    return out


def design_of(doc: dict[str, Any]) -> str:
    """The study document's ``design``: "between" (the default) or "within"."""
    design = doc.get("design", "between")
    if design not in DESIGNS:
        raise StudyError(f'design: must be "between" or "within", got {design!r}')
    return str(design)


FINDINGS_KEYS = ("success_benchmark",)


def findings_options(doc: Any) -> dict[str, Any]:
    """The ``[findings]`` table: ``success_benchmark`` (a rate strictly between 0 and 1)."""
    if not isinstance(doc, dict):
        raise StudyError("findings: must be a table")
    unknown = set(doc) - set(FINDINGS_KEYS)
    if unknown:
        raise StudyError(
            f"findings.{sorted(unknown)[0]}: unknown key (keys: {', '.join(FINDINGS_KEYS)})"
        )
    out: dict[str, Any] = {}
    if "success_benchmark" in doc:
        value = doc["success_benchmark"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise StudyError(
                "findings.success_benchmark: must be a rate between 0 and 1, e.g. 0.78"
            )
        out["success_benchmark"] = float(value)
    return out


def _unique(items: list[Any], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise StudyError(f"{what}: id {item.id!r} appears twice")
        seen.add(item.id)


def parse_study(doc: dict[str, Any]) -> Study:
    """Check a parsed study document and build the :class:`Study`."""
    _known(doc, TOP_KEYS, "")
    study_id = _ident(doc.get("id"), "id")  # first: the name defaults to it
    pages = _pages(doc.get("pages", {}))
    variants_doc = doc.get("variants")
    if not isinstance(variants_doc, list) or not variants_doc:
        raise StudyError("variants: give at least one [[variants]] with id and url")
    variants = []
    for i, v in enumerate(variants_doc):
        if not isinstance(v, dict):
            raise StudyError(f"variants[{i}]: must be a table")
        _known(v, VARIANT_KEYS, f"variants[{i}].")
        variants.append(
            Variant(
                _ident(v.get("id"), f"variants[{i}].id"), _url(v.get("url"), f"variants[{i}].url")
            )
        )
    tasks_doc = doc.get("tasks")
    if not isinstance(tasks_doc, list) or not tasks_doc:
        raise StudyError("tasks: give at least one [[tasks]] with an id")
    tasks = [_task(t, f"tasks[{i}]", pages) for i, t in enumerate(tasks_doc)]
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
    findings_options(doc.get("findings", {}))  # checked here, read by the analyzer from the file
    capture = doc.get("capture_input_values", False)
    if not isinstance(capture, bool):
        raise StudyError("capture_input_values: must be true or false")
    return Study(
        id=study_id,
        replay=_replay(doc),
        name=name,
        origins=origins,
        variants=variants,
        tasks=tasks,
        questionnaires=_questionnaires(doc.get("questionnaires", {})),
        capture_values=capture,
        design=design_of(doc),
        pages=pages,
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


MAX_STUDY_BYTES = 1 << 20  # a study file is a few KB


def read_study(path: str | Path) -> tuple[Study, str]:
    """Read and check a study file; return the study and the file's text."""
    file = Path(path)
    try:
        if file.exists() and not file.is_file():  # a folder, a device, a pipe that would block
            raise StudyError(f"cannot read {path}: not a file")
        with file.open("rb") as f:
            raw = f.read(MAX_STUDY_BYTES + 1)
    except OSError as exc:
        raise StudyError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # a NUL character in the name
        raise StudyError(f"cannot read {str(path)!r}: not a file name") from None
    if len(raw) > MAX_STUDY_BYTES:
        raise StudyError(
            f"{path}: larger than {MAX_STUDY_BYTES >> 20} MB; a study file is a few KB"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a text file (a study file is TOML in UTF-8)") from None
    return parse_study(study_toml(text, str(path))), text


def study_toml(text: str, name: str) -> dict[str, Any]:
    """A study file's TOML, or :class:`StudyError` naming ``name``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{name}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses once per nested array or table
        raise StudyError(f"{name}: not valid TOML (nested too deeply)") from None


def study_json(study: Study) -> dict[str, Any]:
    """A study in the shape of its study file."""
    return {
        "id": study.id, "name": study.name, "origins": study.origins,
        "variants": [{"id": v.id, "url": v.url} for v in study.variants],
        "tasks": [{"id": t.id, "prompt": t.prompt, "success": t.success, "expected_path": t.expected_path}
                  for t in study.tasks],
        "questionnaires": study.questionnaires, "capture_input_values": study.capture_values,
        "design": study.design, "pages": study.pages.as_json(),
        "replay": study.replay is not None,
        **({"replay_mask": list(study.replay.mask), "replay_block": list(study.replay.block)}
           if study.replay is not None else {}),
    }  # fmt: skip
