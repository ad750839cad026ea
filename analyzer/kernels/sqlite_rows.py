"""Read a query's numeric rows straight into numpy arrays, with SQLite's own C library.

Python's :mod:`sqlite3` makes a tuple of Python numbers for every row: about
a microsecond per event, 25-40 s for a ten-million-event study. Here a
jitted loop calls ``sqlite3_step`` and ``sqlite3_column_*`` of the very
library Python's :mod:`sqlite3` is linked to, and writes each value into a
preallocated array: no Python object per row.

The C functions are called through their addresses, passed to the jitted
loop as plain integers (an LLVM ``inttoptr`` then a call), so the loop's
machine code holds no address of this process and numba's on-disk cache
keeps it like any other kernel.

The reader opens its own read-only connection. The caller keeps its own
snapshot for everything else; rows read here must therefore be ones no
write changes after they are committed (uxlab's events are append-only and
read by an id range up to the caller's snapshot's largest id).

Where the library cannot be found (a Python built with SQLite inside its own
module), :func:`available` is False and callers use :mod:`sqlite3`.
"""

from __future__ import annotations

import ctypes
import sqlite3
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from analyzer.config import NUMBA_OPTIONS

SQLITE_ROW, SQLITE_DONE, SQLITE_NULL = 100, 101, 5
SQLITE_OPEN_READONLY, SQLITE_OPEN_URI, SQLITE_OPEN_NOMUTEX = 0x1, 0x40, 0x8000
CHUNK = 1 << 20  # rows per array growth step
MMAP_BYTES = 1 << 40  # as much of the file as SQLite will map (it caps this itself)

_VOIDP = ir.IntType(8).as_pointer()
_I32, _I64, _F64 = ir.IntType(32), ir.IntType(64), ir.DoubleType()


def _codegen(result: ir.Type, args: Sequence[ir.Type]) -> Any:
    """Call the C function at the address in the first argument with the rest converted to ``args``."""

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        fnty = ir.FunctionType(result, list(args))
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        converted = [
            builder.inttoptr(v, t) if isinstance(t, ir.PointerType) else builder.trunc(v, t)
            for v, t in zip(llargs[1:], args, strict=True)
        ]
        return builder.call(fn, converted)

    return codegen


def _c_function(result: ir.Type, numba_result: Any, args: Sequence[ir.Type], doc: str) -> Any:
    """An intrinsic ``f(address, stmt[, column])`` calling the C function at ``address``."""

    def typer(typingctx: Any, *arg_types: Any) -> Any:
        return numba_result(*[types.int64] * (1 + len(args))), _codegen(result, args)

    # numba reads the typer's parameters: spell them out (no *args).
    if len(args) == 1:

        def typer1(typingctx: Any, address: Any, stmt: Any) -> Any:
            return typer(typingctx, address, stmt)

        chosen: Any = typer1
    else:

        def typer2(typingctx: Any, address: Any, stmt: Any, column: Any) -> Any:
            return typer(typingctx, address, stmt, column)

        chosen = typer2
    chosen.__doc__ = doc
    return intrinsic(chosen)


_step = _c_function(_I32, types.int32, [_VOIDP], "int sqlite3_step(sqlite3_stmt*)")
_column_int64 = _c_function(_I64, types.int64, [_VOIDP, _I32],
                            "sqlite3_int64 sqlite3_column_int64(sqlite3_stmt*, int)")  # fmt: skip
_column_double = _c_function(_F64, types.float64, [_VOIDP, _I32],
                             "double sqlite3_column_double(sqlite3_stmt*, int)")  # fmt: skip
_column_type = _c_function(_I32, types.int32, [_VOIDP, _I32],
                           "int sqlite3_column_type(sqlite3_stmt*, int)")  # fmt: skip


@njit(**NUMBA_OPTIONS)
def _fill(functions: np.ndarray, stmt: int, ints: np.ndarray, floats: np.ndarray,
          start: int) -> tuple[int, int]:  # fmt: skip
    """Step ``stmt`` into rows ``start:`` of ``ints`` (integer columns first) and ``floats``.

    Returns (rows filled so far, state): state 1 when the query is done, 0
    when the arrays are full, else minus SQLite's error code. A NULL float
    is NaN; a NULL integer is 0 (queries here ``ifnull`` theirs).
    """
    step, col_int64, col_double, col_type = functions[0], functions[1], functions[2], functions[3]
    n_int, n_float = ints.shape[1], floats.shape[1]
    n = start
    while n < ints.shape[0]:
        rc = _step(step, stmt)
        if rc == SQLITE_DONE:
            return n, 1
        if rc != SQLITE_ROW:
            return n, -rc
        for c in range(n_int):
            ints[n, c] = _column_int64(col_int64, stmt, c)
        for c in range(n_float):
            if _column_type(col_type, stmt, n_int + c) == SQLITE_NULL:
                floats[n, c] = np.nan
            else:
                floats[n, c] = _column_double(col_double, stmt, n_int + c)
        n += 1
    return n, 0


@njit(**NUMBA_OPTIONS)
def fill_events(functions: np.ndarray, stmt: int, start: int, stop: int, session: np.ndarray,
                i32: np.ndarray, i8: np.ndarray, t: np.ndarray, xy: np.ndarray, value: np.ndarray,
                need: np.ndarray, n_need: int, page_type: int, rating_type: int,
                pending: bool = False) -> tuple[int, int, int]:  # fmt: skip
    """Step an events query into rows ``start:stop`` of typed columns, no wider than the cache's.

    The query's columns: ``id, session, load, seq, page, target, label, task_pk`` (integers,
    NULL already -1), ``type, outcome, kind, interactive`` (small integers), ``t, x, y, value``
    (NULL as NaN). Rows whose ``value`` lives in the event's JSON (every ``page_type`` row, and
    ``rating_type`` rows with a NULL value) get ``(row, id)`` appended to ``need`` from
    ``n_need`` on. Returns (rows filled, ``need`` rows filled, state): state 1 when the query
    is done, 0 when a row came with no room left for it (call again with more room and
    ``pending=True``: that row is read first), else minus SQLite's error code.
    """
    step, col_int64, col_double, col_type = functions[0], functions[1], functions[2], functions[3]
    n = start
    while True:
        if pending:
            pending = False
        else:
            rc = _step(step, stmt)
            if rc == SQLITE_DONE:
                return n, n_need, 1
            if rc != SQLITE_ROW:
                return n, n_need, -rc
        if n >= stop:
            return n, n_need, 0
        session[n] = _column_int64(col_int64, stmt, 1)
        for c in range(6):
            i32[n, c] = _column_int64(col_int64, stmt, 2 + c)
        for c in range(4):
            i8[n, c] = _column_int64(col_int64, stmt, 8 + c)
        t[n] = _column_double(col_double, stmt, 12)
        for c in range(2):
            if _column_type(col_type, stmt, 13 + c) == SQLITE_NULL:
                xy[n, c] = np.nan
            else:
                xy[n, c] = _column_double(col_double, stmt, 13 + c)
        if _column_type(col_type, stmt, 15) == SQLITE_NULL:
            value[n] = np.nan
            null_value = True
        else:
            value[n] = _column_double(col_double, stmt, 15)
            null_value = False
        if i8[n, 0] == page_type or (i8[n, 0] == rating_type and null_value):
            need[n_need, 0] = n
            need[n_need, 1] = _column_int64(col_int64, stmt, 0)
            n_need += 1
        n += 1


@cache
def _library() -> ctypes.CDLL | None:
    """SQLite's C functions as Python's sqlite3 module reaches them, or None.

    Looked up through the ``_sqlite3`` extension's own handle: ``dlsym`` searches
    the module and then the libraries it depends on, so this is the very SQLite
    Python uses, never a second copy that some other package brought into the
    process (two copies in one process would break each other's POSIX locks).
    A Python with SQLite linked in without exported symbols gives None.
    """
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_libversion.restype = ctypes.c_char_p
        version = lib.sqlite3_libversion().decode()
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    if version != sqlite3.sqlite_version:
        return None  # cannot happen through the module's own handle; refuse rather than guess
    p, i, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
    signatures = {
        "sqlite3_open_v2": (i, [ctypes.c_char_p, ctypes.POINTER(p), i, ctypes.c_char_p]),
        "sqlite3_close_v2": (i, [p]),
        "sqlite3_prepare_v2": (i, [p, ctypes.c_char_p, i, ctypes.POINTER(p), ctypes.POINTER(p)]),
        "sqlite3_finalize": (i, [p]),
        "sqlite3_bind_int64": (i, [p, i, i64]),
        "sqlite3_bind_double": (i, [p, i, ctypes.c_double]),
        "sqlite3_bind_text": (i, [p, i, ctypes.c_char_p, i, p]),
        "sqlite3_busy_timeout": (i, [p, i]),
        "sqlite3_exec": (i, [p, ctypes.c_char_p, p, p, p]),
        "sqlite3_errmsg": (ctypes.c_char_p, [p]),
        "sqlite3_step": (i, [p]),
        "sqlite3_column_int64": (i64, [p, i]),
        "sqlite3_column_double": (ctypes.c_double, [p, i]),
        "sqlite3_column_type": (i, [p, i]),
    }
    for fn, (restype, argtypes) in signatures.items():
        getattr(lib, fn).restype, getattr(lib, fn).argtypes = restype, argtypes
    return lib


def available() -> bool:
    """Whether rows can be read natively here."""
    return _library() is not None


def _address(lib: ctypes.CDLL, name: str) -> int:
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0


class Query:
    """A prepared, bound statement on its own read-only connection (a context manager).

    ``functions`` holds the addresses the jitted loops call: ``sqlite3_step``,
    ``sqlite3_column_int64``, ``sqlite3_column_double``, ``sqlite3_column_type``.
    Raises ``sqlite3.OperationalError`` with SQLite's message when the file
    cannot be opened or the query prepared.
    """

    def __init__(self, db_path: str | Path, sql: str, params: Sequence[int | float | str]) -> None:
        lib = _library()
        if lib is None:
            raise RuntimeError("SQLite's shared library is not available to read natively")
        self.lib, self.db, self._stmt = lib, ctypes.c_void_p(), ctypes.c_void_p()
        self.functions = np.array([_address(lib, name) for name in (
            "sqlite3_step", "sqlite3_column_int64", "sqlite3_column_double", "sqlite3_column_type")],
            dtype=np.int64)  # fmt: skip
        uri = f"file:{Path(db_path)}?mode=ro".encode()
        flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
        try:
            if lib.sqlite3_open_v2(uri, ctypes.byref(self.db), flags, None):
                raise sqlite3.OperationalError(f"cannot open {db_path}: {self.message()}")
            lib.sqlite3_busy_timeout(self.db, 10_000)
            # Map the file: a scan of millions of rows then copies no page through read().
            lib.sqlite3_exec(self.db, f"PRAGMA mmap_size = {MMAP_BYTES}".encode(), None, None, None)
            if lib.sqlite3_prepare_v2(self.db, sql.encode(), -1, ctypes.byref(self._stmt), None):
                raise sqlite3.OperationalError(self.message())
            for k, value in enumerate(params, start=1):
                if isinstance(value, str):
                    raw = value.encode()
                    lib.sqlite3_bind_text(
                        self._stmt, k, raw, len(raw), ctypes.c_void_p(-1)
                    )  # copied
                elif isinstance(value, float):
                    lib.sqlite3_bind_double(self._stmt, k, value)
                else:
                    lib.sqlite3_bind_int64(self._stmt, k, int(value))
        except BaseException:
            self.close()
            raise

    @property
    def stmt(self) -> int:
        return self._stmt.value or 0

    def message(self) -> str:
        raw = self.lib.sqlite3_errmsg(self.db) if self.db else None
        return raw.decode(errors="replace") if raw else "unknown SQLite error"

    def failed(self, state: int) -> sqlite3.OperationalError:
        return sqlite3.OperationalError(f"{self.message()} (SQLite error {-state})")

    def close(self) -> None:
        if self._stmt:
            self.lib.sqlite3_finalize(self._stmt)
            self._stmt = ctypes.c_void_p()
        if self.db:
            self.lib.sqlite3_close_v2(self.db)
            self.db = ctypes.c_void_p()

    def __enter__(self) -> Query:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read(db_path: str | Path, sql: str, params: Sequence[int | float | str],
         n_int: int, n_float: int, size_hint: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Run ``sql`` on a read-only connection and return its rows as two arrays.

    The query's first ``n_int`` columns go to an int64 array (rows × n_int),
    the next ``n_float`` to a float64 array (rows × n_float, NULL as NaN).
    Raises ``sqlite3.OperationalError`` with SQLite's message on failure.
    """
    with Query(db_path, sql, params) as query:
        size = max(1, size_hint)
        ints, floats = np.empty((size, n_int), np.int64), np.empty((size, n_float), np.float64)
        n = 0
        while True:
            n, state = _fill(query.functions, query.stmt, ints, floats, n)
            if state == 1:
                return ints[:n], floats[:n]
            if state < 0:
                raise query.failed(state)
            grown = len(ints) + max(CHUNK, len(ints) // 2)
            ints, floats = _grow(ints, grown), _grow(floats, grown)


def _grow(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.empty((rows, *array.shape[1:]), array.dtype)
    out[: len(array)] = array
    return out
