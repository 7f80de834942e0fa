"""Checks a dialog runs before a paid step: Custom Zoom's --zoom, and prompt errors."""

from __future__ import annotations

from ..core.prompt import Severity, lint, parse


def first_error(text: str, mode: str | None = None) -> str | None:
    """The first error the linter finds (errors block sending), or None."""
    try:
        issues = lint(text, mode=mode)
    except Exception:  # never block a send on a linter bug
        return None
    errors = [i for i in issues if i.severity == Severity.ERROR]
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0].message + more


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
    if custom_zoom:
        problem = custom_zoom_problem(text)
        if problem:
            return problem
    # inside the Custom Zoom dialog --zoom is right; the linter warns about it elsewhere only
    return first_error(text)
