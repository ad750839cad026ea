"""Findings as tables (frequency, discovery), suggestions the data show, the `uxlab findings` command."""
