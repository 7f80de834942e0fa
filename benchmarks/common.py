"""Shared helpers: a loopback emulator, fresh services, and uniform result lines."""

from __future__ import annotations

import platform
import tempfile
from dataclasses import replace
from pathlib import Path

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.history import History
from mj_tui.core.images import ImageCache
from mj_tui.core.models import ProviderKind
from mj_tui.core.service import MjService


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {system}"


def service_for(kind: ProviderKind, url: str, key: str, scratch: Path | None = None) -> MjService:
    scratch = scratch or Path(tempfile.mkdtemp(prefix="mj-bench-"))
    profile = replace(default_profile("bench", kind), base_url=url, poll_interval=0.01)
    return MjService(
        profile,
        Secret(key),
        history=History(scratch / f"{kind.value}-{key}.sqlite3"),
        images=ImageCache(scratch / "images"),
    )


class Report:
    def __init__(self, title: str):
        self.title = title
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, name: str, value: str, floor: str = "", verdict: str = "") -> None:
        self.rows.append((name, value, floor, verdict))

    def print(self) -> None:
        print(f"\n## {self.title}")
        width = max(len(r[0]) for r in self.rows) if self.rows else 10
        for name, value, floor, verdict in self.rows:
            print(f"  {name:<{width}}  {value:>14}  {floor:<28} {verdict}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"
