"""Findings: usability problems with their evidence, observers' notes; their API and console page."""
