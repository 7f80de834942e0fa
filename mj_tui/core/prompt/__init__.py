"""Prompts: parse, lint, expand permutations, count jobs and complete, as Midjourney reads them.

One module per reason to change: :mod:`.scan` (tokens, versions), :mod:`.lint` (what is
refused or questionable), :mod:`.permute` (``{a, b}`` groups), :mod:`.complete` (the
composer's suggestions) and :mod:`.rules` (the tables all of them read).

Import this package before any of its modules (``from ..prompt import scan``, never
``from ..prompt.scan import x`` outside it): it loads on first use, in whichever thread
needs it first, and a thread that takes a module's import lock before the package's can
deadlock against one importing the package, which Python breaks by handing one of them
a half-initialised module (an ImportError, seen with the UI and a worker thread at once).
"""

from __future__ import annotations

from .complete import complete
from .lint import has_errors, lint
from .permute import expand_permutations, job_count
from .plan import PromptPlan, modal_problem, plan_prompt
from .scan import Completion, Issue, Param, ParsedPrompt, PromptError, Severity, normalize_version, parse

__all__ = [
    "Completion",
    "Issue",
    "Param",
    "ParsedPrompt",
    "PromptError",
    "PromptPlan",
    "Severity",
    "complete",
    "expand_permutations",
    "has_errors",
    "job_count",
    "lint",
    "modal_problem",
    "normalize_version",
    "parse",
    "plan_prompt",
]
