"""uxlab's analyzer: load events, compute attempt metrics, statistics, reports and exports."""
