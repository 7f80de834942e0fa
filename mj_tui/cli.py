"""mj-tui command line: the TUI by default, plus scripting commands over the same core.

Exit codes: 0 success, 1 an API or image error (message on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .core.config import GRAPHICS_CHOICES, SAMPLE_CONFIG, config_path
from .core.errors import ConfigError, CredentialsError, MjError
from .core.models import Mode, Task
from .core.text import clean

EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: printed, exit 2."""


# -- argument parsing ----------------------------------------------------------------


def _global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--profile", default=default, help="config profile to use")
    parser.add_argument("--provider", choices=["ohmygpt", "mjproxy"], default=default, help="API dialect")
    parser.add_argument("--base-url", default=default, help="override the profile's base URL")
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the built-in emulator: no key, no network",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mj-tui",
        description="A keyboard-first terminal client for Midjourney (OhMyGPT and midjourney-proxy APIs).",
    )
    _global_flags(parser, suppress=False)
    parser.add_argument("--graphics", choices=GRAPHICS_CHOICES, default=None, help="image renderer (TUI)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _global_flags(p, suppress=True)
        return p

    p = command("tasks", "list a page of tasks, newest first")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--page-size", type=int, default=None)
    p.add_argument("--json", action="store_true")

    p = command("task", "show one task")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = command("imagine", "submit a prompt")
    p.add_argument("prompt")
    p.add_argument("--mode", choices=[m.value for m in Mode], default=None)
    p.add_argument("--image", action="append", default=[], metavar="PATH", help="reference image (repeatable)")
    p.add_argument("--wait", action="store_true", help="wait for the result, progress on stderr")
    p.add_argument("--json", action="store_true")

    p = command("action", "press a button (customId or its label, e.g. U2) of a finished task")
    p.add_argument("id")
    p.add_argument("custom_id", metavar="CUSTOM_ID")
    p.add_argument("--prompt", default=None, help="prompt for a modal step (Remix, Custom Zoom)")
    p.add_argument("--mask", default=None, metavar="PNG", help="mask for Vary (Region): white = repaint")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--json", action="store_true")

    p = command("download", "save a finished task's image")
    p.add_argument("id")
    p.add_argument("-o", "--output", default=".", metavar="DIR")
    p.add_argument("--quadrant", type=int, choices=[1, 2, 3, 4], default=None, help="save one grid cell")

    p = command("key", "manage the API key in the OS keyring")
    p.add_argument("key_command", choices=["set", "delete", "status"])

    p = command("config", "show the config file path, or write a commented sample")
    p.add_argument("config_command", choices=["path", "init"])

    p = sub.add_parser("emulator", help="run the API emulator (both dialects) on a local port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8787)
    p.add_argument("--job-seconds", type=float, default=6.0, help="how long one simulated job takes")
    p.add_argument("--seed-history", type=int, default=0, help="pre-fill N finished tasks")
    return parser


# -- output helpers --------------------------------------------------------------------


def task_json(task: Task) -> dict[str, Any]:
    """The normalized task for scripts: the stored form without the raw payload."""
    from .core.history import task_to_dict

    data = task_to_dict(task)
    del data["raw"]
    data["buttons"] = [{"custom_id": b.custom_id, "label": b.label, "emoji": b.emoji} for b in task.buttons]
    return data


def _task_line(task: Task) -> str:
    when = task.submit_time.strftime("%Y-%m-%d %H:%M") if task.submit_time else "-"
    status = task.status.value + (f" {task.progress}%" if task.status.in_flight else "")
    prompt = clean(task.prompt)
    if len(prompt) > 60:
        prompt = prompt[:59] + "…"
    return f"{task.id:>18}  {when}  {task.action:<10} {status:<15} {prompt}"


def _print_task(task: Task) -> None:
    print(f"id:       {task.id}")
    print(f"action:   {task.action}    status: {task.status.value}    progress: {task.progress}%")
    print(f"mode:     {task.mode.value if task.mode else '-'}")
    print(f"prompt:   {clean(task.prompt)}")
    if task.final_prompt and task.final_prompt != task.prompt:
        print(f"final:    {clean(task.final_prompt)}")
    if task.fail_reason:
        print(f"failed:   {clean(task.fail_reason)}")
    if task.parent_id:
        print(f"parent:   {task.parent_id}")
    if task.image_url:
        print(f"image:    {clean(task.image_url)}")
    if task.buttons:
        print("buttons:  " + "  ".join(clean(b.display) for b in task.buttons))
        for b in task.buttons:
            print(f"          {clean(b.display):<18} {b.custom_id}")


def _progress_printer():
    tty = sys.stderr.isatty()
    last: list[Any] = [None]

    def show(task: Task) -> None:
        state = (task.status, task.progress)
        if state == last[0]:
            return
        last[0] = state
        bar = "#" * (task.progress // 5)
        line = f"[{task.status.value:<11}] {task.progress:>3}% {bar:<20} task {task.id}"
        if tty:
            sys.stderr.write("\r" + line)
            if not task.status.in_flight:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return show


# -- commands ------------------------------------------------------------------------------


def _launch(args: argparse.Namespace, *, need_key: bool = True, demo_job_seconds: float = 1.0):
    from .launch import build_launch

    launch = build_launch(
        profile=getattr(args, "profile", None),
        provider=getattr(args, "provider", None),
        base_url=getattr(args, "base_url", None),
        demo=getattr(args, "demo", False),
        graphics=getattr(args, "graphics", None),
        # scripts want answers quickly; in the TUI a person should see progress move
        demo_job_seconds=demo_job_seconds,
    )
    if need_key and not launch.key.key:
        hint = launch.key.problem or "No API key is stored for this profile."
        raise UsageError(
            f"{hint}\nSet one with `mj-tui key set --profile {launch.profile.name}`, "
            "or export MJ_TUI_API_KEY, or try `mj-tui --demo`."
        )
    return launch


async def _with_service(args, body):
    async with _launch(args).make_service() as service:
        return await body(service)


def _find_button(task: Task, wanted: str):
    for b in task.buttons:
        if b.custom_id == wanted:
            return b
    low = wanted.strip().lower()
    for b in task.buttons:
        if low and low in (b.label.lower(), b.display.lower(), b.emoji):
            return b
    labels = ", ".join(b.display for b in task.buttons) or "none"
    raise UsageError(f"Task {task.id} has no button {wanted!r}. Its buttons: {labels}")


async def cmd_tasks(args, service) -> int:
    page = await service.page(args.page, args.page_size)
    if args.json:
        print(
            json.dumps(
                {
                    "page": page.page,
                    "page_size": page.page_size,
                    "total": page.total,
                    "pages": page.pages,
                    "tasks": [task_json(t) for t in page.tasks],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for task in page.tasks:
            print(_task_line(task))
        print(f"page {page.page} of {page.pages}, total {page.total}")
    return EXIT_OK


async def cmd_task(args, service) -> int:
    task = await service.refresh(args.id)
    if args.json:
        print(json.dumps(task_json(task), ensure_ascii=False, indent=2))
    else:
        _print_task(task)
    return EXIT_OK


async def _finish(args, service, task: Task) -> int:
    if args.wait:
        show = _progress_printer()
        show(task)
        task = await service.wait(task.id, on_update=show)
        show(task)
    if args.json:
        print(json.dumps(task_json(task), ensure_ascii=False, indent=2))
    else:
        _print_task(task)
    return EXIT_API if task.status.value in ("FAILURE", "CANCEL") else EXIT_OK


async def cmd_imagine(args, service) -> int:
    from .core.uploads import image_data_uri

    images = [image_data_uri(p) for p in args.image]
    task = await service.imagine(args.prompt, mode=Mode(args.mode) if args.mode else None, images=images)
    return await _finish(args, service, task)


async def cmd_action(args, service) -> int:
    parent = await service.refresh(args.id)
    button = _find_button(parent, args.custom_id)
    mask = None
    if args.mask:
        from .core.uploads import image_data_uri

        mask = image_data_uri(args.mask, max_side=4096)
    outcome = await service.press(parent, button, prompt=args.prompt, mask=mask)
    if outcome.modal_required:
        raise UsageError(
            f"{button.display} needs more input: pass --prompt (the server suggests: {outcome.final_prompt!r})"
            + (" and --mask PNG" if button.needs_modal and not mask else "")
        )
    return await _finish(args, service, outcome.task)


async def cmd_download(args, service) -> int:
    task = service.get_cached(args.id)
    if task is None or task.status.value != "SUCCESS":
        task = await service.refresh(args.id)
    # `~` in the folder is expanded in the export's thread
    print(await service.export(task, Path(args.output), quadrant=args.quadrant))
    return EXIT_OK


def cmd_key(args) -> int:
    from .core import credentials

    launch = _launch(args, need_key=False)
    profile = launch.profile.name
    if args.key_command == "status":
        resolved = credentials.get_key(profile)
        backend = credentials.keyring_name()
        print(f"profile:  {profile}")
        print(f"keyring:  {backend or 'none usable'}")
        if resolved.key:
            print(f"key:      set ({resolved.source.value}, {resolved.key.hint})")
        else:
            print("key:      not set")
            if resolved.problem:
                print(resolved.problem, file=sys.stderr)
        return EXIT_OK
    if args.key_command == "delete":
        removed = credentials.delete_key(profile)
        print(f"key for profile {profile!r} {'deleted' if removed else 'was not set'}")
        return EXIT_OK
    if sys.stdin.isatty():
        value = getpass.getpass(f"API key for profile {profile!r} (input hidden): ")
    else:
        value = sys.stdin.readline()
    credentials.set_key(profile, value)
    print(f"key for profile {profile!r} saved in the OS keyring")
    return EXIT_OK


def cmd_config(args) -> int:
    path = config_path()
    if args.config_command == "path":
        print(path)
        return EXIT_OK
    if path.exists():
        raise UsageError(f"{path} already exists; edit it instead.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    print(path)
    return EXIT_OK


def cmd_emulator(args) -> int:
    from .emulator import EmulatorConfig, serve

    serve(
        host=args.host,
        port=args.port,
        config=EmulatorConfig(job_seconds=args.job_seconds, seed_history=args.seed_history),
    )
    return EXIT_OK


def run_tui(args) -> int:
    launch = _launch(args, need_key=False, demo_job_seconds=6.0)
    from .ui import gc_tuning

    gc_tuning.hold_for_startup()  # the app lets go after its first frame; finally: on any other way out
    try:
        try:
            from .ui.app import run_app
        except ImportError:
            print(
                "The TUI is not available in this build; use the scripting commands (mj-tui --help).", file=sys.stderr
            )
            return EXIT_USAGE
        return run_app(launch)
    finally:
        gc_tuning.startup_done()


ASYNC_COMMANDS = {
    "tasks": cmd_tasks,
    "task": cmd_task,
    "imagine": cmd_imagine,
    "action": cmd_action,
    "download": cmd_download,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in ASYNC_COMMANDS:
            handler = ASYNC_COMMANDS[args.command]
            return asyncio.run(_with_service(args, lambda service: handler(args, service)))
        if args.command == "key":
            return cmd_key(args)
        if args.command == "config":
            return cmd_config(args)
        if args.command == "emulator":
            return cmd_emulator(args)
        return run_tui(args)
    except UsageError as exc:
        print(f"mj-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"mj-tui: configuration problem: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CredentialsError as exc:
        print(f"mj-tui: {exc}", file=sys.stderr)
        return EXIT_API
    except MjError as exc:
        print(f"mj-tui: {exc.title}: {exc}", file=sys.stderr)
        return EXIT_API
    except KeyboardInterrupt:
        print("mj-tui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
