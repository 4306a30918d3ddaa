"""Deciding many cases: in this process or in worker processes that confine crashes."""

#: Seconds one case may take before its worker is killed (a normal case takes
#: milliseconds; a golden-heavy timeline a few seconds). Here rather than in ``pool`` so
#: the command line reads it without importing multiprocessing.
DEFAULT_TIMEOUT = 60.0
