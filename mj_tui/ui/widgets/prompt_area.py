"""The prompt box: a TextArea that lints what is typed and underlines the culprits.

Linting runs once per edit (core ``prompt.lint`` is a linear scan), inside the
TextArea's own highlight pass, so the spans are drawn with the text at no extra
render: errors in the theme's error colour, warnings in its warning colour.
"""

from __future__ import annotations

from rich.style import Style
from textual.color import Color
from textual.widgets import TextArea

# core.prompt (its tables and regexes: ~25 ms) loads with the first keystroke
STYLE_NAMES = {"error": "mj-lint-error", "warning": "mj-lint-warning"}


class PromptArea(TextArea):
    def __init__(self, *args, **kwargs) -> None:
        self.issues: list = []  # core.prompt Issues of the current text
        self.lint_mode: str | None = None  # the speed mode chosen beside the box
        #: the version a prompt without --v is checked as; None: the linter's own (today's)
        self.lint_version: str | None = None
        super().__init__(*args, **kwargs)

    def relint(self) -> None:
        """Lint again (the mode changed) and redraw the underlines."""
        self._build_highlight_map()
        self.refresh()

    def _styles(self) -> None:
        theme = getattr(self, "_theme", None)
        if theme is None or STYLE_NAMES["error"] in theme.syntax_styles:
            return
        variables = self.app.theme_variables

        def colour(name: str, fallback: str) -> str:
            try:
                return Color.parse(variables.get(name, fallback)).hex
            except Exception:
                return fallback

        # a new dict: the theme object's mapping is shared with Textual's built-in theme
        theme.syntax_styles = {
            **theme.syntax_styles,
            STYLE_NAMES["error"]: Style(color=colour("error", "#ff5555"), underline=True, bold=True),
            STYLE_NAMES["warning"]: Style(color=colour("warning", "#ffaa00"), underline=True),
        }

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        text = self.text
        if not text.strip():
            self.issues = []
            return
        from ...core.prompt import lint

        try:
            if self.lint_version:
                self.issues = lint(text, default_version=self.lint_version, mode=self.lint_mode)
            else:
                self.issues = lint(text, mode=self.lint_mode)
        except Exception:  # a linter bug must never cost the person their typing
            self.issues = []
        if not self.issues or not self.is_mounted:
            return
        self._styles()
        lines = text.split("\n")
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        highlights = self._highlights
        for issue in self.issues:
            name = STYLE_NAMES.get(str(issue.severity))
            if name is None or issue.end <= issue.start:
                continue
            for row, line in enumerate(lines):
                begin, end = starts[row], starts[row] + len(line)
                if issue.end <= begin or issue.start >= end:
                    continue
                a = max(issue.start, begin) - begin
                b = min(issue.end, end) - begin
                highlights[row].append((len(line[:a].encode()), len(line[:b].encode()), name))
