"""Every output table's columns, in order: the one list the analyzer, the exports and the tests read.

A table's documented columns (README, "Output tables") come first; columns
added later are appended after them, never inserted, so that a spreadsheet
built on the documented ones keeps working. Where a table has both, the
documented ones are ``*_COLUMNS`` and the appended ones ``*_EXTRA_COLUMNS``.
"""

from __future__ import annotations


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


ATTEMPT_COLUMNS = _columns(
    "study variant participant session task outcome coded_by time_s clicks misclicks "
    "rage_clicks errors moderator_errors js_errors invalid_inputs pages distinct_pages "
    "backtracks path_edit_distance lostness direct seq path"
)
ATTEMPT_EXTRA_COLUMNS = ("dead_clicks",)
TASK_COLUMNS = _columns(
    "task variant attempts successes success_rate success_ci_low success_ci_high "
    "abandonment_rate time_gm_s time_ci_low time_ci_high time_median_s time_gm_all_s "
    "error_rate error_rate_ci_low error_rate_ci_high errors_per_attempt misclick_rate "
    "clicks_mean lostness_mean directness_rate seq_mean"
)
TASK_EXTRA_COLUMNS = _columns(
    "uncoded time_n directness_ci_low directness_ci_high seq_ci_low seq_ci_high caution "
    "time_all_ci_low time_all_ci_high time_median_all_s seq_ci_clipped"
)
PARTICIPANT_COLUMNS = _columns(
    "participant variant session tasks successes time_total_s errors sus"
)
PARTICIPANT_EXTRA_COLUMNS = _columns("uncoded sus_grade umux_lite nps")
COMPARISON_COLUMNS = _columns(
    "task metric variant_a variant_b value_a value_b difference ci_low ci_high test "
    "statistic p_value"
)
COMPARISON_EXTRA_COLUMNS = _columns("n_a n_b paired reading caution ci_clipped")
MARKER_COLUMNS = _columns("participant variant task t_s kind text session")  # session: appended
SESSION_COLUMNS = _columns("session participant variant sus umux_lite nps started_ms ended_ms")
TRANSITION_COLUMNS = _columns("task variant from to count")
PAGE_SPEED_COLUMNS = _columns("page variant loads load_ms_median ttfb_ms_median")
CLICK_COLUMNS = _columns(
    "participant variant session task page x y target misclick rage label dead burst_start"
)

# The report's SUS and UMUX-Lite summary per variant (not an output table).
SUS_SUMMARY_COLUMNS = _columns(
    "variant sessions sus_n sus_mean sus_ci_low sus_ci_high sus_median sus_grade "
    "sus_percentile umux_lite_n umux_lite_mean umux_lite_sus_equivalent nps_n nps sus_ci_clipped"
)

# The findings tables (README, "Findings").
FINDING_COLUMNS = _columns(
    "finding title severity severity_label tasks variants participants_affected "
    "participants_observed frequency frequency_ci_low frequency_ci_high evidence_count "
    "recommendation tags"
)
FINDING_EXTRA_COLUMNS = _columns(  # the description, who was affected, the two-variant comparison
    "description affected variant_a variant_b difference difference_ci_low difference_ci_high "
    "test p_value"
)
FINDING_VARIANT_COLUMNS = _columns(
    "finding variant participants_affected participants_observed frequency frequency_ci_low "
    "frequency_ci_high"
)
FINDING_EVIDENCE_COLUMNS = _columns("finding participant variant session task t_s text")
DISCOVERY_COLUMNS = _columns(
    "participants findings p_hat singletons p_adj share_found estimated_total n_for_85 n_for_90 "
    "n_for_95 caution"
)
CURVE_COLUMNS = _columns(
    "sessions session participant participants findings_seen findings_expected"
)
SUGGESTION_COLUMNS = _columns("suggestion kind task variant page element participants evidence")
SUGGESTION_EXTRA_COLUMNS = _columns("title participant_ids")  # a title to accept it with, and who

#: Every output table by name (in the order ``analyze`` lists them): all its columns, in order.
TABLES: dict[str, tuple[str, ...]] = {
    "attempts": ATTEMPT_COLUMNS + ATTEMPT_EXTRA_COLUMNS,
    "tasks": TASK_COLUMNS + TASK_EXTRA_COLUMNS,
    "participants": PARTICIPANT_COLUMNS + PARTICIPANT_EXTRA_COLUMNS,
    "comparisons": COMPARISON_COLUMNS + COMPARISON_EXTRA_COLUMNS,
    "markers": MARKER_COLUMNS,
    "sessions": SESSION_COLUMNS,
    "transitions": TRANSITION_COLUMNS,
    "page_speed": PAGE_SPEED_COLUMNS,
    "clicks": CLICK_COLUMNS,
    "findings": FINDING_COLUMNS + FINDING_EXTRA_COLUMNS,
    "finding_variants": FINDING_VARIANT_COLUMNS,
    "finding_evidence": FINDING_EVIDENCE_COLUMNS,
    "problem_discovery": DISCOVERY_COLUMNS,
    "discovery_curve": CURVE_COLUMNS,
    "suggestions": SUGGESTION_COLUMNS + SUGGESTION_EXTRA_COLUMNS,
}
