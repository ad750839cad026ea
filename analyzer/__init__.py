"""uxlab's analyzer: load events, compute attempt metrics, statistics, reports and exports."""

from analyzer.config import use_numba_cache_dir

# Before any kernel module imports numba: compiled kernels go to a user-writable cache.
use_numba_cache_dir()
