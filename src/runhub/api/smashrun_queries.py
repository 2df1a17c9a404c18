"""Narrow reads for the longitudinal Smashrun endpoints (stats, goals, notables): now in
store/activities.py, re-exported here so existing callers keep working."""

from __future__ import annotations

from runhub.store.activities import run_rows

__all__ = ["run_rows"]
