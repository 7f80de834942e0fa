"""The core must stay importable without the TUI, and the emulator without the core."""

import subprocess
import sys


def _modules_after(import_line: str) -> set[str]:
    code = f"import sys; {import_line}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_never_imports_textual():
    mods = _modules_after(
        "import mj_tui.core.service, mj_tui.core.providers, mj_tui.core.history, mj_tui.core.images, "
        "mj_tui.core.poller, mj_tui.core.config, mj_tui.core.credentials, mj_tui.core.pricing"
    )
    assert "mj_tui.core.service" in mods
    assert not {m for m in mods if m == "textual" or m.startswith("textual.")}
    assert not {m for m in mods if m.startswith("mj_tui.ui")}


def test_emulator_never_imports_core():
    mods = _modules_after("import mj_tui.emulator")
    assert "mj_tui.emulator" in mods
    assert not {m for m in mods if m.startswith("mj_tui.core")}
    assert not {m for m in mods if m == "textual" or m.startswith("textual.")}


def test_cli_help_does_not_import_textual():
    # scripting commands stay quick: the TUI is imported only when it runs
    mods = _modules_after("import mj_tui.cli")
    assert "mj_tui.cli" in mods
    assert "textual" not in mods


def test_the_first_frame_does_not_wait_for_httpx():
    # httpx (~30 ms, ~6 MB) loads with the service, in a thread after the first frame;
    # everything the first frame needs, kitty widget included, does without it
    mods = _modules_after(
        "import mj_tui.cli, mj_tui.ui.app, mj_tui.ui.screens.main, mj_tui.ui.kitty_image, mj_tui.launch"
    )
    assert "mj_tui.ui.kitty_image" in mods and "mj_tui.ui.screens.main" in mods
    assert "httpx" not in mods


def test_the_prompt_package_is_imported_before_its_modules():
    """Outside mj_tui/core/prompt, `from ...prompt.scan import x` takes the module's import
    lock before the package's: with another thread importing the package at that moment
    (the UI and a worker thread both load it on first use), Python breaks the deadlock by
    handing one a half-initialised module. `from ...prompt import scan` takes them in order."""
    import ast
    from pathlib import Path

    import mj_tui

    root = Path(mj_tui.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.parent.name == "prompt" and path.parent.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if "prompt" in parts and parts.index("prompt") < len(parts) - 1:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno} from {'.' * node.level}{node.module}")
    assert offenders == []


def test_the_start_screen_draws_without_the_rest_of_the_ui():
    # `mj-tui` draws its first frame from these alone (see screens/start.py); the main
    # screen, its prompt editor (OptionList comes with Textual's palette), pictures, the query language, the queue, the
    # prompt rules and every command's parser load after it
    mods = _modules_after(
        "import mj_tui.cli as c; c.parse_arguments(['--demo', '--provider', 'mjproxy']); "
        "import mj_tui.ui.app, mj_tui.ui.screens.start, mj_tui.ui.terminal_driver, mj_tui.launch"
    )
    assert "mj_tui.ui.screens.start" in mods
    later = {
        "mj_tui.ui.screens.main",
        "mj_tui.ui.flows",
        "textual.widgets._text_area",
        "PIL",
        "httpx",
        "mj_tui.core.search",
        "mj_tui.core.queue",
        "mj_tui.core.prompt",
        "mj_tui.emulator.options",
        "tomllib",
    }
    assert mods & later == set()
