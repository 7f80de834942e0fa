"""Prompts: parse, lint, expand permutations, count jobs and complete, as Midjourney reads them.

One module per reason to change: :mod:`.scan` (tokens, versions), :mod:`.lint` (what is
refused or questionable), :mod:`.permute` (``{a, b}`` groups), :mod:`.complete` (the
composer's suggestions) and :mod:`.rules` (the tables all of them read).
"""

from __future__ import annotations

from .complete import complete
from .lint import has_errors, lint
from .permute import expand_permutations, job_count
from .plan import PromptPlan, plan_prompt
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
    "normalize_version",
    "parse",
    "plan_prompt",
]
