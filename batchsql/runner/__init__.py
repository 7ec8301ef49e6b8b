"""One run of one spec: collect what finished, select what is pending, submit it, maybe wait.

This package is the only place that talks to both the warehouse and the provider. Everything it
decides comes from the pure modules (plan, prompts, reconcile, sql); everything it remembers
goes to the warehouse (state) before it acts, so a run killed at any point is resumed by the
next one without resubmitting or dropping anything.
"""

from batchsql.runner.core import Event, Runner, RunSummary
from batchsql.runner.source import check_source, source_query

__all__ = ["Event", "RunSummary", "Runner", "check_source", "source_query"]
