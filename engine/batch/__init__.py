"""Deciding many cases: in this process or in worker processes that confine crashes."""
