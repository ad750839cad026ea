"""The ``attempts`` rows read once into columns, and their groups (task x variant, session).

The statistics tables summarise hundreds of thousands of attempt rows (one
dict each) into a few dozen task x variant cells and one row per session.
Walking the dicts again for every figure of every group cost seconds on a
large study; here each column a table needs is read once, into a list or a
numpy array, and a group is an index array in attempt order. Every figure
therefore sums the same values in the same order as a row-by-row loop and
comes out exactly equal: counts are integer sums; sums of floats stay
Python's ``sum`` over the group's values, in attempt order.

The analyzer itself need not make the row dicts at all:
:meth:`AttemptColumns.of_arrays` takes the columns straight from the
kernels' arrays (:mod:`analyzer.metrics.analyze`), giving the very values the rows
would have held.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import cached_property
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

from analyzer.kernels.structures import OUTCOME_CODES, OUTCOME_NAMES, SUCCESS, UNCODED

Attempt = Mapping[str, Any]
H = TypeVar("H", bound=Hashable)

OUTCOMES = tuple(OUTCOME_CODES)  # the outcome words an attempt row may hold


def factorize(values: Iterable[H]) -> tuple[np.ndarray, list[H]]:
    """Integer codes of ``values``, and the distinct values in order of first appearance."""
    index: dict[H, int] = {}
    codes = [index.setdefault(value, len(index)) for value in values]
    return np.array(codes, dtype=np.int64), list(index)


def factorize_codes(codes: np.ndarray, ids: Sequence[H]) -> tuple[np.ndarray, list[H]]:
    """``factorize`` of ``ids[code]`` for each of ``codes`` (integers), without reading the ids one by one.

    Distinct codes must name distinct ids; where two name the same id, the
    ids are read one by one after all, so the result is always ``factorize``'s.
    """
    if not len(codes):
        return np.zeros(0, dtype=np.int64), []
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # by first appearance
    rank = np.empty(len(unique), dtype=np.int64)
    rank[order] = np.arange(len(unique))
    named = [ids[code] for code in unique[order].tolist()]
    if len(set(named)) < len(named):
        return factorize(ids[code] for code in codes.tolist())
    return rank[inverse.reshape(-1)], named


def distinct(codes: np.ndarray) -> np.ndarray:
    """The distinct codes, ascending (a sort: quicker than ``np.unique``'s hashing here)."""
    ordered = np.sort(codes)
    return ordered[np.append(True, ordered[1:] != ordered[:-1])] if len(ordered) else ordered


def positions_by_code(codes: np.ndarray, n_codes: int) -> list[np.ndarray]:
    """Positions holding each code 0..n_codes-1, ascending (attempt order kept)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1)).tolist()
    return [order[lo:hi] for lo, hi in pairwise(bounds)]


def sums_by_code(codes: np.ndarray, values: np.ndarray, n_codes: int) -> list[float | None]:
    """Python's ``sum`` of each code's ``values`` in their order, None for a code without any.

    Python's own sum, not numpy's pairwise one, so that a total is the very
    float a loop over the rows would give.
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1)).tolist()
    listed = values[order].tolist()
    return [sum(listed[lo:hi]) if hi > lo else None for lo, hi in pairwise(bounds)]


class Numbers:
    """A column of optional numbers: the values as floats (0.0 where None) and which are present."""

    def __init__(self, value: np.ndarray, present: np.ndarray) -> None:
        self.value, self.present = value, present

    @classmethod
    def of(cls, column: Sequence[Any]) -> Numbers:
        """Read a column whose entries are numbers or None."""
        objects = np.empty(len(column), dtype=object)
        objects[:] = column
        present = objects != None  # noqa: E711 (elementwise: which entries are not None)
        value = np.zeros(len(column))
        value[present] = objects[present].astype(float)
        return cls(value, present)

    def take(self, positions: np.ndarray) -> Numbers:
        """The entries at ``positions``."""
        return Numbers(self.value[positions], self.present[positions])

    def listed(self) -> list[float]:
        """The present values, as floats, in order."""
        return self.value[self.present].tolist()

    def positive(self) -> np.ndarray:
        """Which entries are present and above 0 (a log time needs a positive time)."""
        return self.present & (self.value > 0)


class AttemptColumns:
    """The attempt rows, read a column at a time as a table asks for it (each column once)."""

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        self.rows = attempts
        self.n = len(attempts)
        self._given: dict[str, Any] = {}
        self._ids: dict[str, tuple[np.ndarray, list[Any]]] = {}
        self._counts: dict[str, np.ndarray] = {}
        self._numbers: dict[str, Numbers] = {}

    @classmethod
    def of_arrays(
        cls,
        n: int,
        columns: Mapping[str, Any],
        ids: Mapping[str, tuple[np.ndarray, Sequence[Any]]],
    ) -> AttemptColumns:
        """Columns already read, without rows: the attempts table as the analyzer's kernels give it.

        Parameters
        ----------
        n : int
            How many attempts.
        columns : mapping
            By column name: a list (words) or an array of codes (``outcome``,
            ``OUTCOME_CODES``), an array (counts, ``direct``) or a
            :class:`Numbers` (``time_s``, ``lostness``, ``seq``),
            each holding what the rows' column would.
        ids : mapping
            By id column (``task``, ``variant``, ``session``, ``participant``):
            each attempt's integer code and the ids the codes index
            (:func:`factorize_codes` orders them as :meth:`codes` does).
        """
        read = cls([])
        read.n, read._given = n, dict(columns)
        read._ids = {
            name: factorize_codes(np.asarray(codes), names) for name, (codes, names) in ids.items()
        }
        return read

    def column(self, name: str) -> list[Any]:
        """One column as a list, in attempt order."""
        if name in self._given:
            given = self._given[name]
            return given.tolist() if isinstance(given, np.ndarray) else list(given)
        if name in self._ids and not self.rows:
            codes, ids = self._ids[name]
            return [ids[code] for code in codes.tolist()]
        return [attempt[name] for attempt in self.rows]

    def value(self, name: str, position: int) -> Any:
        """One attempt's value of an id column."""
        codes, ids = self.codes(name)
        return ids[codes[position]]

    @cached_property
    def outcome(self) -> np.ndarray:
        """Outcome codes (``OUTCOME_CODES``); ``ValueError`` on an unknown outcome."""
        given = self._given.get("outcome")
        if isinstance(given, np.ndarray):  # codes already, as the kernels give them
            known = np.isin(given, list(OUTCOME_NAMES))
            if not known.all():
                bad = str(given[~known][0])
                raise ValueError(f"unknown outcome {bad!r}; expected one of {OUTCOMES}")
            return given.astype(np.int8)
        words = self.column("outcome")
        try:
            return np.fromiter(map(OUTCOME_CODES.__getitem__, words), np.int8, len(words))
        except (KeyError, TypeError):
            bad = next(w for w in words if not isinstance(w, str) or w not in OUTCOME_CODES)
            raise ValueError(f"unknown outcome {bad!r}; expected one of {OUTCOMES}") from None

    @cached_property
    def coded(self) -> np.ndarray:
        """Which attempts the moderator (or the criteria) ended."""
        return self.outcome != UNCODED

    def codes(self, name: str) -> tuple[np.ndarray, list[Any]]:
        """An id column (task, variant, session, participant) as codes, and its distinct ids."""
        if name not in self._ids:
            self._ids[name] = factorize(self.column(name))
        return self._ids[name]

    def count(self, name: str) -> np.ndarray:
        """A column of counts as an integer array (``ValueError`` unless whole numbers)."""
        if name not in self._counts:
            given = self._given.get(name)
            values = (
                np.asarray(given) if isinstance(given, np.ndarray) else np.array(self.column(name))
            )
            if len(values) and values.dtype.kind not in "biu":
                raise ValueError(f"{name}: counts must be whole numbers")
            self._counts[name] = values.astype(np.int64)
        return self._counts[name]

    def number(self, name: str) -> Numbers:
        """A column of numbers or None (time_s, lostness, seq)."""
        if name not in self._numbers:
            given = self._given.get(name)
            self._numbers[name] = (
                given if isinstance(given, Numbers) else Numbers.of(self.column(name))
            )
        return self._numbers[name]

    @cached_property
    def direct(self) -> np.ndarray:
        """Which attempts were direct."""
        given = self._given.get("direct")
        if isinstance(given, np.ndarray):
            return given.astype(bool)
        return np.array(self.column("direct"), dtype=bool)

    def cells(self) -> dict[tuple[Any, Any], TaskCell]:
        """The attempts of each task x variant that has any, keyed by (task, variant)."""
        task, tasks = self.codes("task")
        variant, variants = self.codes("variant")
        n_variants = len(variants)
        groups = positions_by_code(task * n_variants + variant, len(tasks) * n_variants)
        return {
            (tasks[code // n_variants], variants[code % n_variants]): TaskCell(self, positions)
            for code, positions in enumerate(groups)
            if len(positions)
        }


class TaskCell:
    """The coded attempts of one group (a task x variant), in attempt order."""

    def __init__(self, columns: AttemptColumns, positions: np.ndarray) -> None:
        coded = columns.coded[positions]
        self.columns, self.positions = columns, positions[coded]
        self.outcome = columns.outcome[self.positions]
        self.n = len(self.positions)
        self.uncoded = len(positions) - self.n

    @classmethod
    def empty(cls, columns: AttemptColumns) -> TaskCell:
        """A group without attempts."""
        return cls(columns, np.zeros(0, dtype=np.int64))

    @cached_property
    def success(self) -> np.ndarray:
        """Which attempts succeeded."""
        return self.outcome == SUCCESS

    @cached_property
    def with_error(self) -> np.ndarray:
        """Which attempts had at least one user error."""
        return self.count("errors") != 0

    def count(self, name: str) -> np.ndarray:
        """A count column of this cell's attempts."""
        return self.columns.count(name)[self.positions]

    def number(self, name: str) -> Numbers:
        """An optional-number column of this cell's attempts."""
        return self.columns.number(name).take(self.positions)

    @cached_property
    def success_time(self) -> Numbers:
        """Each attempt's time where it succeeded with a time above 0 s (else absent)."""
        time = self.number("time_s")
        return Numbers(time.value, time.positive() & self.success)

    @cached_property
    def first_by_participant(self) -> dict[Any, int]:
        """Each participant's first attempt here (its index in the cell), in order of appearance."""
        codes, participants = self.columns.codes("participant")
        first: dict[Any, int] = {}
        for i, code in enumerate(codes[self.positions].tolist()):
            first.setdefault(participants[code], i)
        return first
