"""Prompts sent before, kept across runs in a small JSON file under the data dir."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

LIMIT = 500


class PromptHistory:
    def __init__(self, path: Path | None):
        self.path = path
        self.items: list[str] = []
        self._cursor: int | None = None  # index into items while recalling
        self._draft = ""
        if path is not None:
            self.items = self._load(path)

    @staticmethod
    def _load(path: Path) -> list[str]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []  # missing or damaged: start afresh rather than fail the app
        return [str(p) for p in data if isinstance(p, str) and p.strip()][-LIMIT:] if isinstance(data, list) else []

    def add(self, prompt: str) -> None:
        prompt = prompt.strip()
        self._cursor = None
        if not prompt:
            return
        if prompt in self.items:
            self.items.remove(prompt)
        self.items.append(prompt)
        del self.items[:-LIMIT]
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prompts.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.items, fh, ensure_ascii=False, indent=0)
            os.replace(tmp, self.path)
        except OSError:
            pass  # history is a convenience; never a reason to lose the submit

    def previous(self, current: str) -> str | None:
        """One step back; the first step remembers the unsent draft."""
        if not self.items:
            return None
        if self._cursor is None:
            self._draft = current
            self._cursor = len(self.items)
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.items[self._cursor]

    def next(self) -> str | None:
        """One step forward; past the newest entry the draft comes back."""
        if self._cursor is None:
            return None
        self._cursor += 1
        if self._cursor >= len(self.items):
            self._cursor = None
            return self._draft
        return self.items[self._cursor]

    def reset(self) -> None:
        self._cursor = None
