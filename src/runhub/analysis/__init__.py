"""Pure metrics over the canonical Activity's arrays (no database, no HTTP).

`analyse()` is what ingest calls: the summary plus every per-activity product that is stored
once at import so that longitudinal queries never re-read raw streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runhub.activity import Activity, Summary


@dataclass
class Analysis:
    summary: Summary
    products: dict[str, Any] = field(default_factory=dict)  # name -> JSON-serialisable value


def analyse(activity: Activity) -> Analysis:
    from runhub.analysis.summary import summarize

    summary = summarize(activity) if activity.has_streams else activity.summary
    return Analysis(summary=summary, products={})
