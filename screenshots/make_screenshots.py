"""Make the README's pictures of the real app: `python screenshots/make_screenshots.py`.

The scenes are the snapshot tests' own (tests/ui/scenes.py): the in-process
emulator with a frozen clock, so the pictures only change when the app does.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# never the developer's own config, history, cache or key
_scratch = Path(tempfile.mkdtemp(prefix="mj-tui-shots-"))
os.environ["MJ_TUI_CONFIG"] = str(_scratch / "config.toml")
os.environ["MJ_TUI_DATA_DIR"] = str(_scratch / "data")
os.environ["MJ_TUI_CACHE_DIR"] = str(_scratch / "cache")
os.environ.pop("MJ_TUI_API_KEY", None)
sys.path.insert(0, str(ROOT / "tests" / "ui"))

import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import scenes  # noqa: E402


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works, so the welcome screen shows its normal form."""

    priority = -100  # never auto-selected

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


SHOTS = [
    # file name, terminal size, scene, app options
    ("main-mid-job", (120, 40), scenes.mid_job, {}),
    ("main-finished-grid", (120, 40), scenes.finished_grid, {}),
    ("main-zoomed-quadrant", (120, 40), scenes.zoomed_quadrant, {}),
    ("main-80x24", (80, 24), scenes.finished_grid, {}),
    ("help", (120, 40), scenes.help_screen, {}),
    ("gallery", (120, 40), scenes.gallery, {}),
    ("gallery-80x24", (80, 24), scenes.gallery, {}),
    ("search", (120, 40), scenes.library_search, {}),
    ("queue", (120, 40), scenes.queue_view, {}),
    ("video", (120, 40), scenes.video_batch, {"provider": "mjproxy"}),
    ("vary-region", (120, 40), scenes.region_dialog, {"provider": "ohmygpt"}),
    ("blend-80x24", (80, 24), scenes.blend_dialog, {}),
    ("describe-prompts", (120, 40), scenes.describe_results, {}),
    ("prompt-lint-and-completion", (120, 40), scenes.composer_lint_and_suggest, {}),
    ("permutations-80x24", (80, 24), scenes.permutations_confirm, {}),
    ("welcome", (100, 30), scenes.welcome, {"with_key": False}),
]


async def shoot(name: str, size: tuple[int, int], scene, options: dict) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app = scenes.scene_app(Path(tmp), **options)
        async with app.run_test(size=size) as pilot:
            await scene(pilot)
            svg = app.export_screenshot(title=f"mj-tui · {name}")
    target = HERE / f"{name}.svg"
    target.write_text(svg, encoding="utf-8")
    return target


def main() -> int:
    from unittest import mock

    from textual_image._terminal import CellSize, get_cell_size

    get_cell_size._result = CellSize(10, 20)  # fixed cell size: same pictures everywhere
    with mock.patch.object(sys, "__stdin__", None):  # no terminal queries: these are files, not a tty
        import textual_image.widget  # noqa: F401
    keyring.set_keyring(MemoryKeyring())
    for name, size, scene, options in SHOTS:
        path = asyncio.run(shoot(name, size, scene, options))
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
