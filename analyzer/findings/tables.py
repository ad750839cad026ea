"""Findings as tables: frequency per finding and variant, evidence, and problem discovery.

The README ("Findings") defines the tables; the team's findings are
stored by :mod:`recorder.findings.store` and read here once
(:func:`read_stored`). Definitions:

- **affected**: the participants of a finding's evidence sessions plus any
  named by hand. **observed**: the participants who attempted at least one
  of its tasks (everyone with a session when it names no task); an affected
  participant counts as observed too, so a frequency never exceeds 1.
- **frequency** = affected / observed with the 95% adjusted-Wald interval
  (:func:`analyzer.stats.compare.adjusted_wald`); per variant the same over the
  participants of that variant's sessions. Where a study has exactly two
  variants, the two frequencies are compared with the test the analyzer uses
  for success rates (:func:`analyzer.stats.compare.compare_proportions`: N-1
  two-proportion test, Fisher's exact test for small expected counts).
- **problem discovery** (Lewis 2001; Sauro & Lewis 2016, ch. 7), over the
  findings of severity >= 1 and the participants with a session: p̂ is the
  mean of the participant x finding matrix, ``p_adj = ½(p̂ − 1/n)(1 − 1/n) +
  ½·p̂/(1 + singletons/findings)``, ``share_found = 1 − (1 − p_adj)^n``,
  ``estimated_total = findings / share_found`` and ``n_for_P = ceil(ln(1 −
  P) / ln(1 − p_adj))``. With fewer than 2 participants or no finding the
  row holds nulls and a ``caution`` says why: never a made-up figure.
- **discovery curve**: sessions in the order they started; after each, the
  distinct findings seen so far against the model's expectation
  ``estimated_total · (1 − (1 − p_adj)^k)``, k the participants so far.
"""

from __future__ import annotations

import math
import sqlite3
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.metrics.columns import (
    CURVE_COLUMNS,
    DISCOVERY_COLUMNS,
    FINDING_EVIDENCE_COLUMNS,
    FINDING_VARIANT_COLUMNS,
)
from analyzer.metrics.columns import TABLES as TABLE_COLUMNS
from analyzer.stats import compare as stats
from recorder.findings import store as findings_store
from recorder.storage import store
from recorder.wire.studyfile import StudyError, findings_options

FINDING_COLUMNS = TABLE_COLUMNS["findings"]  # the documented columns, then the appended ones
SEVERITY_LABELS = findings_store.SEVERITY_LABELS
GOALS = (0.85, 0.90, 0.95)
LIST_JOIN = ", "


@dataclass(frozen=True)
class Stored:
    """What the team stored for a study: findings, observers' notes, study-file options."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    benchmark: float | None = None


def by_finding(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Rows of ``finding_variants`` or ``finding_evidence`` grouped by their ``finding``."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["finding"], []).append(row)
    return groups


def read_stored(db_path: str | Path, study_id: str) -> Stored:
    """Read a study's findings, notes and ``[findings]`` options (no event: those are loaded)."""
    conn = store.connect(db_path, readonly=True)
    try:
        try:
            findings = findings_store.list_findings(conn, study_id)
            notes = findings_store.list_notes(conn, study_id)
        except sqlite3.OperationalError:  # a database from before migration 4
            findings, notes = [], []
        row = conn.execute("SELECT source FROM studies WHERE id = ?", (study_id,)).fetchone()
    finally:
        conn.close()
    return Stored(findings, notes, _benchmark(row[0] if row else ""))


def _benchmark(source: str | None) -> float | None:
    try:
        doc = tomllib.loads(source or "")
        value = findings_options(doc.get("findings", {})).get("success_benchmark")
    except (tomllib.TOMLDecodeError, StudyError):
        return None
    return None if value is None else float(value)


# -- the discovery formulas ------------------------------------------------------------------


def p_adjusted(p_hat: float, n: int, singletons: int, findings: int) -> float:
    """Lewis (2001): p̂ deflated by the normalization and Good-Turing adjustments, averaged.

    Parameters
    ----------
    p_hat : mean of the participant x finding matrix
    n : participants (>= 2)
    singletons : findings seen by exactly one participant
    findings : distinct findings (>= 1)
    """
    if n < 2 or findings < 1:
        raise ValueError("p_adjusted: needs at least 2 participants and 1 finding")
    normalized = (p_hat - 1.0 / n) * (1.0 - 1.0 / n)
    good_turing = p_hat / (1.0 + singletons / findings)
    return 0.5 * normalized + 0.5 * good_turing


def share_found(p: float, n: int) -> float:
    """The share of problems of probability ``p`` that ``n`` participants reveal: 1 − (1 − p)^n."""
    return 1.0 - (1.0 - p) ** n


def n_for(p: float, goal: float) -> int | None:
    """Participants needed to see a problem of probability ``p`` at least once with
    probability ``goal``: ceil(ln(1 − goal) / ln(1 − p)); None where p is 0."""
    if not 0.0 < goal < 1.0:
        raise ValueError("goal: must lie strictly between 0 and 1")
    if p <= 0.0:
        return None
    if p >= 1.0:
        return 1
    # A tiny tolerance: 1 − (1 − p)^n lands on the goal exactly in published examples.
    return max(1, math.ceil(math.log(1.0 - goal) / math.log(1.0 - p) - 1e-9))


def discovery(matrix: dict[str, set[str]], participants: Iterable[str]) -> dict[str, Any]:
    """The ``problem_discovery`` row of a finding -> affected participants matrix.

    ``matrix`` holds only findings of severity >= 1; ``participants`` are the
    rows of the matrix (everyone with a session).
    """
    people = set(participants)
    n, k = len(people), len(matrix)
    row: dict[str, Any] = dict.fromkeys(DISCOVERY_COLUMNS)
    row.update(participants=n, findings=k)
    if n < 2 or k == 0:
        row["caution"] = ("no findings of severity 1 or more yet" if k == 0 else
                          "fewer than 2 participants: problem discovery cannot be estimated")  # fmt: skip
        return row
    hits = sum(len(affected & people) for affected in matrix.values())
    p_hat = hits / (n * k)
    singletons = sum(1 for affected in matrix.values() if len(affected & people) == 1)
    p_adj = p_adjusted(p_hat, n, singletons, k)
    share = share_found(p_adj, n)
    row.update(p_hat=p_hat, singletons=singletons, p_adj=p_adj, share_found=share,
               estimated_total=k / share,
               **{f"n_for_{round(g * 100)}": n_for(p_adj, g) for g in GOALS})  # fmt: skip
    if n < 5 or k < 3:
        row["caution"] = (f"rough estimate: {n} participants and {k} finding{'s' if k != 1 else ''}; "
                          "it steadies as sessions are added")  # fmt: skip
    return row


def discovery_curve(sessions: list[tuple[int, str]], matrix: dict[str, set[tuple[int, str]]],
                    row: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """Distinct findings seen after each session (in start order) and the model's expectation.

    ``sessions`` are ``(session, participant)`` in start order; ``matrix`` maps a
    finding to the ``(session, participant)`` pairs that saw it (a participant
    named by hand counts from their first session).
    """
    seen: set[str] = set()
    people: set[str] = set()
    out = []
    for k, (session, participant) in enumerate(sessions, 1):
        people.add(participant)
        for finding, pairs in matrix.items():
            if any(s == session or (s < 0 and p == participant) for s, p in pairs):
                seen.add(finding)
        expected = None
        if row.get("p_adj") is not None:
            expected = row["estimated_total"] * share_found(row["p_adj"], len(people))
        out.append(dict(zip(CURVE_COLUMNS, (k, session, participant, len(people), len(seen),
                                            expected), strict=True)))  # fmt: skip
    return out


# -- the tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Who took part: sessions in start order, and who attempted which task in which variant."""

    sessions: list[dict[str, Any]]  # rows of the sessions table, in start order
    attempted: dict[str, set[tuple[str, str]]]  # task -> {(participant, variant)}
    task_at: dict[int, list[tuple[float, float, str]]]  # session -> [(t0_s, t1_s, task)]

    @property
    def everyone(self) -> set[tuple[str, str]]:
        return {(s["participant"], s["variant"]) for s in self.sessions}


def finding_tables(stored: Stored, population: Population,
                   variants: list[str]) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """``findings``, ``finding_variants``, ``finding_evidence``, ``problem_discovery`` and
    ``discovery_curve`` of the stored findings, ordered by severity then frequency."""
    rows, by_variant, evidence = [], [], []
    matrix: dict[str, set[str]] = {}
    curve_pairs: dict[str, set[tuple[int, str]]] = {}
    session_of = {s["session"]: s for s in population.sessions}
    for finding in stored.findings:
        fid = finding["id"]
        affected = _affected(finding, population, session_of)
        observed = _observed(finding, population) | affected
        for moment in finding["evidence"]:
            evidence.append(_evidence_row(fid, moment, population))
        whole = stats.adjusted_wald(len({p for p, _ in affected}), len({p for p, _ in observed}))
        per_variant = []
        for variant in variants:
            a = {p for p, v in affected if v == variant}
            o = {p for p, v in observed if v == variant}
            if o:
                per_variant.append((variant, len(a), len(o)))
                by_variant.append(_variant_row(fid, variant, stats.adjusted_wald(len(a), len(o))))
        row = _finding_row(finding, affected, whole, [v for v, _, _ in per_variant])
        if len(variants) == 2 and len(per_variant) == 2:
            (va, xa, na), (vb, xb, nb) = per_variant
            cmp = stats.compare_proportions(xa, na, xb, nb)
            row.update(variant_a=va, variant_b=vb, difference=cmp.difference,
                       difference_ci_low=cmp.ci_low, difference_ci_high=cmp.ci_high,
                       test=cmp.test, p_value=cmp.p_value)  # fmt: skip
        rows.append(row)
        if finding["severity"] >= 1:
            matrix[str(fid)] = {p for p, _ in affected}
            curve_pairs[str(fid)] = _pairs(finding, session_of)
    rows.sort(key=lambda r: (-r["severity"], -(r["frequency"] or 0.0), r["finding"]))
    order = {r["finding"]: i for i, r in enumerate(rows)}
    by_variant.sort(key=lambda r: (order[r["finding"]], variants.index(r["variant"])))
    evidence.sort(key=lambda r: (order[r["finding"]], r["session"], r["t_s"]))
    people = {s["participant"] for s in population.sessions}
    row = discovery(matrix, people)
    started = [(s["session"], s["participant"]) for s in population.sessions]
    return {"findings": rows, "finding_variants": by_variant, "finding_evidence": evidence,
            "problem_discovery": [row],
            "discovery_curve": discovery_curve(started, curve_pairs, row)}  # fmt: skip


def _affected(finding: dict[str, Any], population: Population,
              session_of: dict[int, dict[str, Any]]) -> set[tuple[str, str]]:  # fmt: skip
    out = {(m["participant"], m["variant"]) for m in finding["evidence"]}
    named = set(finding["participants"])
    out |= {
        (s["participant"], s["variant"]) for s in session_of.values() if s["participant"] in named
    }
    return out


def _observed(finding: dict[str, Any], population: Population) -> set[tuple[str, str]]:
    if not finding["tasks"]:
        return population.everyone
    out: set[tuple[str, str]] = set()
    for task in finding["tasks"]:
        out |= population.attempted.get(task, set())
    return out


def _pairs(finding: dict[str, Any], session_of: dict[int, dict[str, Any]]) -> set[tuple[int, str]]:
    """(session, participant) of each evidence moment; -1 for a participant named by hand."""
    pairs = {(m["session"], m["participant"]) for m in finding["evidence"]}
    return pairs | {(-1, p) for p in finding["participants"]}


def _evidence_row(fid: int, moment: dict[str, Any], population: Population) -> dict[str, Any]:
    task = None
    for t0, t1, name in population.task_at.get(moment["session"], []):
        if t0 <= moment["t_s"] <= t1:
            task = name
    return dict(zip(FINDING_EVIDENCE_COLUMNS, (fid, moment["participant"], moment["variant"],
                                               moment["session"], task, moment["t_s"],
                                               moment["text"]), strict=True))  # fmt: skip


def _variant_row(fid: int, variant: str, prop: Any) -> dict[str, Any]:
    return dict(zip(FINDING_VARIANT_COLUMNS, (fid, variant, prop.successes, prop.n, prop.estimate,
                                              prop.low, prop.high), strict=True))  # fmt: skip


def _finding_row(finding: dict[str, Any], affected: set[tuple[str, str]], prop: Any,
                 variants: list[str]) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = dict.fromkeys(FINDING_COLUMNS)
    row.update(
        finding=finding["id"], title=finding["title"], severity=finding["severity"],
        severity_label=SEVERITY_LABELS[finding["severity"]],
        tasks=LIST_JOIN.join(finding["tasks"]), variants=LIST_JOIN.join(variants),
        participants_affected=prop.successes, participants_observed=prop.n,
        frequency=prop.estimate, frequency_ci_low=prop.low, frequency_ci_high=prop.high,
        evidence_count=len(finding["evidence"]), recommendation=finding["recommendation"],
        tags=LIST_JOIN.join(finding["tags"]), description=finding["description"],
        affected=LIST_JOIN.join(sorted({p for p, _ in affected})),
    )  # fmt: skip
    return row
