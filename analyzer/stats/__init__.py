"""Small-sample statistics: intervals, comparisons, exact tests, questionnaires, readings in words."""
