"""Per-attempt columns from the kernels, then the study's tables (attempts, tasks, participants, comparisons)."""
