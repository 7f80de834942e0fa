"""Everything decided about a prompt before anything is paid for, for the TUI and the CLI alike.

A prompt with an error is refused (every error named, not only the first); one with
``{a, b}`` groups becomes its prompts; the jobs it makes are counted (permutations ×
``--repeat``) so a caller can say what it will cost and ask first.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PromptRefused
from . import rules
from .lint import lint
from .permute import expand_permutations, job_count
from .scan import Issue, PromptError, Severity, parse


@dataclass(frozen=True)
class PromptPlan:
    text: str
    #: what is sent, one submit each (the text itself when it has no braces)
    prompts: tuple[str, ...]
    #: paid jobs in all: a --repeat prompt is one submit but several jobs
    jobs: int
    #: what Midjourney may ignore or change: shown, but no reason to refuse
    warnings: tuple[Issue, ...]


def plan_prompt(
    text: str, *, mode: str | None = None, default_version: str = rules.DEFAULT_VERSION, video: bool = False
) -> PromptPlan:
    """The prompts `text` sends and the jobs they make; raises PromptRefused on any error.

    `video` says the prompt goes to a video request even without --video in it."""
    text = text.strip()
    if not text:
        raise PromptRefused("The prompt is empty: describe what you want to see.", problems=["The prompt is empty"])
    issues = lint(text, default_version=default_version, mode=mode, video=video)
    errors = [i.message for i in issues if i.severity == Severity.ERROR]
    if errors:
        raise PromptRefused(_refusal(errors), problems=errors)
    try:
        prompts = expand_permutations(text)
    except PromptError as exc:
        raise PromptRefused(str(exc), problems=[str(exc)]) from None
    warnings = tuple(i for i in issues if i.severity == Severity.WARNING)
    return PromptPlan(text, tuple(prompts), job_count(text), warnings)


def _refusal(errors: list[str]) -> str:
    if len(errors) == 1:
        return f"Not sent: {errors[0]}."
    return "Not sent:\n" + "\n".join(f"• {e}" for e in errors)


def custom_zoom_problem(text: str) -> str | None:
    """Custom Zoom needs --zoom with a value from 1 to 2."""
    zooms = [p for p in parse(text).params if p.name == "zoom"]
    if not zooms:
        return "Custom Zoom needs --zoom and a value from 1 to 2, e.g. --zoom 1.5"
    value = zooms[-1].value
    try:
        number = float(value or "")
    except ValueError:
        return f"--zoom needs a number from 1 to 2 (got {value or 'nothing'})"
    if not 1 <= number <= 2:
        return f"--zoom must be from 1 to 2 (got {value})"
    return None


def modal_problem(text: str, *, custom_zoom: bool = False) -> str | None:
    """Why a modal step's prompt (Remix, Custom Zoom, a describe pick) would be refused, or None.

    Inside the Custom Zoom dialog --zoom is right (the linter warns about it elsewhere)."""
    if custom_zoom:
        problem = custom_zoom_problem(text)
        if problem:
            return problem
    try:
        issues = lint(text)
    except Exception:  # never block a send on a linter bug
        return None
    errors = [i for i in issues if i.severity == Severity.ERROR]
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0].message + more
