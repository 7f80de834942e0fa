"""mj-tui command line: the TUI by default, plus scripting commands over the same core.

The commands make the checks the TUI makes, through the same service: a prompt with an
error is refused before it is paid for, ``{a, b}`` sends one job per prompt, more than
four jobs at once needs ``--yes`` (the TUI asks), a button's second step is checked
before the button is pressed. Everything a server sent is printed through the core's
sanitizer, so no answer can drive the terminal.

Exit codes: 0 success, 1 an API, image or job failure (message on stderr), 2 bad usage,
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .cli_doctor import add_arguments as doctor_arguments
from .cli_doctor import cmd_doctor
from .cli_media import COMMANDS as MEDIA_COMMANDS
from .cli_media import add_arguments as media_arguments
from .cli_queue import QueueUsage, cmd_batch, cmd_queue
from .cli_queue import add_arguments as queue_arguments
from .core.config import GRAPHICS_CHOICES, SAMPLE_CONFIG, config_path
from .core.errors import ConfigError, CredentialsError, MjError, PromptRefused, QueryError
from .core.models import Mode, Status, Task
from .core.text import clean

if TYPE_CHECKING:
    from .core.exporting import ExportProgress
    from .core.service import MjService
    from .launch import Launch

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
CONFIRM_OVER = 4  # more paid jobs than this at once needs --yes, as the TUI asks first
SHAPES = ("portrait", "square", "landscape")


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
    parser.add_argument(
        "--webhook-listen",
        default=default,
        metavar="HOST:PORT",
        help="take the provider's callbacks there (the TUI, batch, queue run); polling goes on, slower",
    )
    parser.add_argument(
        "--webhook-public-url", default=default, metavar="URL", help="the address the provider must call instead"
    )


def _wait_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="wait for the result, progress on stderr")
    p.add_argument(
        "--timeout",
        type=float,
        default=30 * 60,
        metavar="SECONDS",
        help="with --wait: give up after this long (the job may still finish; default 1800)",
    )
    p.add_argument("--json", action="store_true", help="print the task as JSON")


class _NotTheTui(Exception):
    """The arguments are not the TUI's alone: the full parser reads them (and reports)."""


class _TuiParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotTheTui(message)


def _tui_parser() -> argparse.ArgumentParser:
    """The top level's own options, what `mj-tui` without a command (the TUI) takes."""
    parser = _TuiParser(prog="mj-tui", add_help=False)
    _global_flags(parser, suppress=False)
    parser.add_argument("--graphics", choices=GRAPHICS_CHOICES, default=None)
    return parser


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line read as build_parser() reads it. Building every command's parser
    takes ~17 ms, a twentieth of the TUI's start: without a command (and without -h or
    anything else it does not know) only the top level's own options are read."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args, rest = _tui_parser().parse_known_args(words)
    except _NotTheTui:
        rest = words
    if rest:
        return build_parser().parse_args(words)
    args.command = None
    return args


def build_parser() -> argparse.ArgumentParser:
    from .emulator.options import add_arguments as emulator_arguments

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

    p = command("tasks", "list a page of tasks, newest first (unfinished ones are asked about again)")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--page-size", type=int, default=None, help="tasks per page (OhMyGPT: 5 to 20)")
    p.add_argument("--json", action="store_true")

    p = command("task", "show one task")
    p.add_argument("id")
    _wait_flags(p)

    p = command("imagine", "submit a prompt ({a, b} permutations make one job each)")
    p.add_argument("prompt")
    p.add_argument("--mode", choices=[m.value for m in Mode], default=None)
    p.add_argument("--image", action="append", default=[], metavar="PATH", help="reference image (repeatable)")
    p.add_argument("--yes", action="store_true", help=f"send more than {CONFIRM_OVER} paid jobs at once")
    p.add_argument("--webhook", default=None, metavar="URL", help="a URL the provider calls with the job's progress")
    _wait_flags(p)

    p = command("action", "press a button (customId or its label, e.g. U2) of a finished task")
    p.add_argument("id")
    p.add_argument("custom_id", metavar="BUTTON")
    p.add_argument("--prompt", default=None, help="prompt for the second step (Remix; Custom Zoom with --zoom 1-2)")
    p.add_argument("--mask", default=None, metavar="PNG", help="mask for Vary (Region): white = repaint")
    p.add_argument("--webhook", default=None, metavar="URL", help="a URL the provider calls with the job's progress")
    _wait_flags(p)

    p = command("dismiss", "give up on a task that waits for a prompt (a dialog step): it stops waiting here")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = command("cancel", "cancel a task at the provider (midjourney-proxy, where its admin allows)")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = command("blend", "blend 2 to 5 image files into one grid")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--shape", choices=SHAPES, default="square")
    p.add_argument("--mode", choices=[m.value for m in Mode], default=None)
    _wait_flags(p)

    p = command("describe", "four prompts for an image file (printed when done, with --wait)")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--mode", choices=[m.value for m in Mode], default=None)
    _wait_flags(p)

    p = command("shorten", "shorter versions of a prompt (midjourney-proxy; printed when done, with --wait)")
    p.add_argument("prompt")
    p.add_argument("--mode", choices=[m.value for m in Mode], default=None)
    _wait_flags(p)

    p = command("balance", "the account's balance (OhMyGPT, with an admin key)")
    p.add_argument("--json", action="store_true")

    p = command("search", "search the local history (sync first to have all of OhMyGPT's), newest first")
    p.add_argument(
        "query", help='words, "a phrase", -word, status: action: mode: ar: v: niji has: since: before: is: tag:'
    )
    p.add_argument("--limit", type=int, default=20, metavar="N", help="show at most N tasks (default 20)")
    p.add_argument("--json", action="store_true")

    p = command("sync", "bring the provider's history into the local store (progress on stderr); nothing is paid")
    p.add_argument("--max-pages", type=int, default=None, metavar="N", help="stop after N requests (resumed next time)")
    p.add_argument("--json", action="store_true")

    p = command("star", "star a task in the local history (--off: unstar it)")
    p.add_argument("id")
    p.add_argument("--off", action="store_true")

    p = command("tag", "tag a task in the local history (--remove: take the tags off)")
    p.add_argument("id")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--remove", action="store_true")

    p = command("download", "save a finished task's image")
    p.add_argument("id")
    p.add_argument("-o", "--output", default=".", metavar="DIR")
    p.add_argument("--quadrant", type=int, choices=[1, 2, 3, 4], default=None, help="save one cell of a grid")
    p.add_argument("--sidecar", action="store_true", help="also write <name>.json beside it: prompt, ids, times")

    _export_arguments(command)
    media_arguments(command, _wait_flags)
    queue_arguments(command, confirm_over=CONFIRM_OVER)

    p = command("key", "manage the API key in the OS keyring")
    p.add_argument("key_command", choices=["set", "delete", "status"])

    p = command("config", "show the config file path, or write a commented sample")
    p.add_argument("config_command", choices=["path", "init"])

    doctor_arguments(command("doctor", "what the terminal can draw, and the image renderer mj-tui picks"))

    p = sub.add_parser(
        "emulator",
        help="run the API emulator (both dialects) on a local port",
        description="Both API dialects on localhost, for trying mj-tui and scripts offline. Point mj-tui at it "
        "with --base-url; the seeded history belongs to the --demo-key account.",
    )
    emulator_arguments(p)
    return parser


# -- output ----------------------------------------------------------------------------

# what JSON leaves raw but a terminal may obey: DEL, the C1 controls (0x9b is a one-byte
# CSI), and the line/paragraph separators
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(data: object) -> str:
    """JSON with every control character escaped (the data is kept, nothing is interpreted)."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def task_json(task: Task) -> dict[str, Any]:
    """The normalized task for scripts: the stored form without the raw payload."""
    from .core.history import task_to_dict

    data = task_to_dict(task)
    del data["raw"]
    data["buttons"] = [{"custom_id": b.custom_id, "label": b.label, "emoji": b.emoji} for b in task.buttons]
    data["seed"] = task.seed
    data["video_urls"] = list(task.video_urls)
    return data


def _line(text: object) -> str:
    return clean(text, one_line=True)


def _task_line(task: Task) -> str:
    when = task.submit_time.strftime("%Y-%m-%d %H:%M") if task.submit_time else "-"
    status = task.status.value + (f" {task.progress}%" if task.status.in_flight else "")
    prompt = _line(task.prompt)
    if len(prompt) > 60:
        prompt = prompt[:59] + "…"
    return f"{_line(task.id):>18}  {when}  {_line(task.action):<10} {status:<15} {prompt}"


def _print_task(task: Task) -> None:
    from .core.results import suggested_prompts

    print(f"id:       {_line(task.id)}")
    print(f"action:   {_line(task.action)}    status: {task.status.value}    progress: {task.progress}%")
    print(f"mode:     {task.mode.value if task.mode else '-'}")
    print(f"prompt:   {_line(task.prompt)}")
    if task.final_prompt and task.final_prompt != task.prompt:
        print(f"final:    {_line(task.final_prompt)}")
    if task.fail_reason:
        print(f"failed:   {_line(task.fail_reason)}")
    if task.parent_id:
        print(f"parent:   {_line(task.parent_id)}")
    if task.image_url:
        print(f"image:    {_line(task.image_url)}")
    for number, url in enumerate(task.video_urls, 1):
        print(f"video {number}:  {_line(url)}")
    if task.seed:
        print(f"seed:     {_line(task.seed)}")
    for number, prompt in enumerate(suggested_prompts(task), 1):
        print(f"prompt {number}: {_line(prompt)}")
    if task.buttons:
        print("buttons:  " + "  ".join(_line(b.display) for b in task.buttons))
        for b in task.buttons:
            print(f"          {_line(b.display):<18} {_line(b.custom_id)}")


def _show(task: Task, as_json: bool) -> None:
    if as_json:
        print(json_text(task_json(task)))
    else:
        _print_task(task)


def _note(text: str) -> None:
    """A line for the person on stderr (server text in it is already clean)."""
    print(f"mj-tui: {text}", file=sys.stderr, flush=True)


def _progress_printer() -> Callable[[Task], None]:
    tty = sys.stderr.isatty()
    last: list[Any] = [None]

    def show(task: Task) -> None:
        state = (task.status, task.progress)
        if state == last[0]:
            return
        last[0] = state
        bar = "#" * (task.progress // 5)
        line = f"[{task.status.value:<11}] {task.progress:>3}% {bar:<20} task {_line(task.id)}"
        if tty:
            sys.stderr.write("\r" + line)
            if not task.status.in_flight:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return show


# -- commands ------------------------------------------------------------------------------


def _launch(args: argparse.Namespace, *, need_key: bool = True, demo_job_seconds: float = 1.0) -> Launch:
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
    if getattr(args, "webhook_listen", None):
        launch.config.webhook_listen = args.webhook_listen
    if getattr(args, "webhook_public_url", None):
        launch.config.webhook_public_url = args.webhook_public_url
    if need_key and not launch.key.key:
        hint = launch.key.problem or "No API key is stored for this profile."
        raise UsageError(
            f"{hint}\nSet one with `mj-tui key set --profile {launch.profile.name}`, "
            "or export MJ_TUI_API_KEY, or try `mj-tui --demo`."
        )
    return launch


async def _with_service(
    args: argparse.Namespace, body: Callable[[MjService], Awaitable[int]], *, local: bool = False
) -> int:
    """Run a command with the service. `local`: it only reads and writes the local history
    (search, star, tag): no key is needed and nothing is asked of the provider."""
    launch = _launch(args, need_key=not local)
    async with launch.make_service() as service:
        if not local and args.command in LISTENING_COMMANDS and launch.config.webhook_listen:
            from .core.webhooks import parse_listen

            host, port = parse_listen(launch.config.webhook_listen)
            listener = await service.listen(host, port, public_url=launch.config.webhook_public_url)
            _note(f"taking callbacks at {_line(listener.base_url)} (polling goes on, slower)")
        if local:
            try:
                return await body(service)
            finally:
                for history_notice in service.history.take_notices():
                    _note(_line(str(history_notice)))
        try:
            for task in await service.reconcile():  # a run killed while a request was out
                if task.status == Status.UNCONFIRMED:
                    _note(
                        f"{_line(task.id)}: {_line(task.prompt)!r} was being sent when mj-tui stopped and may or may "
                        f"not have reached the provider; check, then send it again or `mj-tui dismiss {task.id}`."
                    )
                else:
                    _note(f"task {_line(task.id)} ({_line(task.prompt)!r}), sent before mj-tui stopped, was found.")
        except MjError as exc:
            _note(f"could not look for requests an earlier run left unanswered: {_line(exc.message)}")
        try:
            return await body(service)
        finally:
            for history_notice in service.history.take_notices():
                _note(_line(str(history_notice)))
            for notice in service.notices:
                _note(_line(notice))


def _mode(args: argparse.Namespace) -> Mode | None:
    return Mode(args.mode) if getattr(args, "mode", None) else None


def _find_button(task: Task, wanted: str) -> Any:
    for b in task.buttons:
        if b.custom_id == wanted:
            return b
    low = wanted.strip().lower()
    for b in task.buttons:
        if low and low in (b.label.lower(), b.display.lower(), b.emoji):
            return b
    labels = ", ".join(_line(b.display) for b in task.buttons) or "none"
    raise UsageError(f"Task {_line(task.id)} has no button {_line(wanted)!r}. Its buttons: {labels}")


async def _finish(args: argparse.Namespace, service: MjService, task: Task) -> int:
    if task.queued_ahead is not None:
        _note(f"task {_line(task.id)} is queued at the provider, {task.queued_ahead} job(s) ahead of it.")
    if args.wait:
        show = _progress_printer()
        show(task)

        def stale(task: Task) -> None:
            minutes = service.stale_after / 60
            _note(f"task {_line(task.id)} has not moved for {minutes:.0f} min; the provider may have lost it.")

        task = await service.wait(task.id, on_update=show, on_stale=stale, timeout=args.timeout)
        show(task)
    _show(task, args.json)
    if args.wait and task.status == Status.MODAL:
        # a dialog step nobody sent: the job will not run by itself
        _note(
            f"task {_line(task.id)} waits for its dialog step (a prompt) at the provider and will not run until "
            f"it gets one: `mj-tui action` on its parent with --prompt, or `mj-tui dismiss {_line(task.id)}`."
        )
        return EXIT_API
    return EXIT_API if task.status.value in ("FAILURE", "CANCEL") else EXIT_OK


async def cmd_tasks(args: argparse.Namespace, service: MjService) -> int:
    size = args.page_size
    if args.page < 1:
        raise UsageError("--page counts from 1.")
    if size is not None and size < 1:
        raise UsageError("--page-size must be at least 1.")
    if size is not None and service.capabilities.server_history:
        # OhMyGPT's own pages hold 5 to 20 tasks
        fitted = min(20, max(5, size))
        if fitted != size:
            _note(f"{service.capabilities.label} pages hold 5 to 20 tasks; showing {fitted} per page.")
            size = fitted
    page = await service.page(args.page, size)
    if args.page > page.pages:
        raise UsageError(f"There is no page {args.page}: {page.total} tasks make {page.pages} page(s).")
    tasks = await service.refresh_unfinished(page.tasks)
    skipped = getattr(page, "skipped", 0)
    if skipped:
        _note(f"{skipped} task(s) on this page could not be read and are left out.")
    if args.json:
        data = {"page": page.page, "page_size": page.page_size, "total": page.total, "pages": page.pages}
        print(json_text({**data, "tasks": [task_json(t) for t in tasks]}))
    else:
        for task in tasks:
            print(_task_line(task))
        print(f"page {page.page} of {page.pages}, total {page.total}")
    return EXIT_OK


async def cmd_task(args: argparse.Namespace, service: MjService) -> int:
    return await _finish(args, service, await service.refresh(args.id))


async def cmd_imagine(args: argparse.Namespace, service: MjService) -> int:
    from .core.models import Action
    from .core.uploads import image_data_uri

    mode = _mode(args)
    plan = service.plan(args.prompt, mode=mode)  # refused here, before anything is paid for
    for warning in plan.warnings:
        _note(f"warning: {_line(warning.message)}")
    cost = service.price_text(Action.IMAGINE, mode or service.default_mode, plan.jobs)
    if plan.jobs > CONFIRM_OVER and not args.yes:
        raise UsageError(
            f"This makes {plan.jobs} paid jobs" + (f", about {cost[1:]}" if cost else "") + ": add --yes to send them."
        )
    if len(plan.prompts) > 1 and (args.wait or args.json):
        raise UsageError("--wait and --json take one prompt; this one expands to several (send them without).")
    if cost:
        _note(f"sending {plan.jobs} job{'s' if plan.jobs > 1 else ''}, {cost}")
    images = [await asyncio.to_thread(image_data_uri, p) for p in args.image]
    if len(plan.prompts) == 1:
        task = await service.imagine(plan.prompts[0], mode=mode, images=images, webhook=args.webhook)
        return await _finish(args, service, task)
    for number, prompt in enumerate(plan.prompts, 1):
        try:
            task = await service.imagine(prompt, mode=mode, images=images, webhook=args.webhook)
        except MjError as exc:
            # never resend: say what went and what did not
            _note(f"sent {number - 1} of {len(plan.prompts)}; prompt {number} failed: {_line(exc.message)}")
            for rest in plan.prompts[number - 1 :]:
                print(f"not sent: {_line(rest)}", file=sys.stderr)
            return EXIT_API
        print(_task_line(task))
    return EXIT_OK


async def cmd_action(args: argparse.Namespace, service: MjService) -> int:
    parent = await service.refresh(args.id)
    button = _find_button(parent, args.custom_id)
    mask = None
    if args.mask:
        from .core.uploads import image_data_uri

        mask = await asyncio.to_thread(image_data_uri, args.mask, max_side=4096)
    try:  # what the button's second step needs, checked before it is pressed
        service.check_press(button, prompt=args.prompt, mask=mask)
    except MjError as exc:
        raise UsageError(exc.message) from None
    outcome = await service.press(parent, button, prompt=args.prompt, mask=mask, webhook=args.webhook)
    if outcome.modal_required:
        suggested = _line(outcome.final_prompt)
        raise UsageError(
            f"{_line(button.display)} needs a prompt for its second step: pass --prompt (the server suggests "
            f"{suggested!r}). Task {_line(outcome.task.id)} waits for it."
        )
    return await _finish(args, service, outcome.task)


async def cmd_dismiss(args: argparse.Namespace, service: MjService) -> int:
    _show(service.dismiss(args.id), args.json)
    return EXIT_OK


async def cmd_cancel(args: argparse.Namespace, service: MjService) -> int:
    task = await service.cancel(args.id)  # Unsupported / PermissionDenied say why not (exit 1)
    job = service.job_queue.job_for_task(service.namespace, task.id)
    if job is not None and job.state.active:
        service.job_queue.cancel(job.id, "cancelled at the provider")
    _show(task, args.json)
    return EXIT_OK


async def cmd_blend(args: argparse.Namespace, service: MjService) -> int:
    from .core.uploads import image_data_uri

    if not 2 <= len(args.images) <= 5:
        raise UsageError(f"Blend takes 2 to 5 images; got {len(args.images)}.")
    images = [await asyncio.to_thread(image_data_uri, p) for p in args.images]
    task = await service.blend(images, dimensions=args.shape.upper(), mode=_mode(args))
    return await _finish(args, service, task)


async def cmd_describe(args: argparse.Namespace, service: MjService) -> int:
    from .core.uploads import image_data_uri

    image = await asyncio.to_thread(image_data_uri, args.image)
    return await _finish(args, service, await service.describe(image, mode=_mode(args)))


async def cmd_shorten(args: argparse.Namespace, service: MjService) -> int:
    if not service.capabilities.shorten:
        raise UsageError(f"{service.capabilities.label} does not offer /shorten; midjourney-proxy providers do.")
    return await _finish(args, service, await service.shorten(args.prompt.strip(), mode=_mode(args)))


async def cmd_balance(args: argparse.Namespace, service: MjService) -> int:
    balance = await service.balance()
    if balance is None:
        raise UsageError(f"{service.capabilities.label} does not report a balance for this key.")
    if args.json:
        print(json_text({"balance": balance.balance, "free_balance": balance.free_balance, "unit": balance.unit}))
    else:
        free = f" (free: {_line(balance.free_balance)})" if balance.free_balance is not None else ""
        print(f"{_line(balance.balance)} {_line(balance.unit)}{free}")
    return EXIT_OK


def _task_row(task: Task) -> str:
    marks = ("*" if task.starred else " ") + (" " + " ".join(f"#{t}" for t in task.tags) if task.tags else "")
    return _task_line(task) + ("  " + marks.strip() if marks.strip() else "")


def _query_problem(query: str, exc: QueryError) -> UsageError:
    """A query the search cannot read, with a caret under the culprit where it is known."""
    where = ""
    if exc.start is not None:
        end = max(exc.end or exc.start + 1, exc.start + 1)
        where = f"\n  {_line(query)}\n  {' ' * exc.start}{'^' * (end - exc.start)}"
    return UsageError(f"search: {exc.message}{where}")


async def cmd_search(args: argparse.Namespace, service: MjService) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1.")
    try:
        page = service.search(args.query, 1, args.limit)
    except QueryError as exc:
        raise _query_problem(args.query, exc) from None
    if page.skipped:
        _note(f"{page.skipped} matching task(s) could not be read and are left out.")
    if args.json:
        data = {"query": args.query, "total": page.total, "shown": len(page.tasks)}
        print(json_text({**data, "tasks": [task_json(t) for t in page.tasks]}))
    else:
        for task in page.tasks:
            print(_task_row(task))
        more = f" (showing {len(page.tasks)}; --limit for more)" if page.total > len(page.tasks) else ""
        print(f"{page.total} found{more}")
    return EXIT_OK


async def cmd_sync(args: argparse.Namespace, service: MjService) -> int:
    from .core.sync import SyncProgress

    if args.max_pages is not None and args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1.")
    tty = sys.stderr.isatty()

    def progress(p: SyncProgress) -> None:
        total = f" of {p.total}" if p.total is not None else ""
        line = f"sync: {p.pages_read} request(s), {p.tasks_stored}{total} tasks stored, {p.new} new"
        sys.stderr.write(("\r" + line) if tty else line + "\n")
        sys.stderr.flush()

    try:
        result = await service.sync(on_progress=progress, max_pages=args.max_pages)
    finally:
        if tty:
            sys.stderr.write("\n")
    if args.json:
        fields = ("pages_read", "tasks_stored", "new", "total", "complete", "unfinished")
        print(json_text({name: getattr(result, name) for name in fields}))
        return EXIT_OK
    state = "up to date" if result.complete else "stopped early (run sync again to go on)"
    print(
        f"{state}: {result.tasks_stored} task(s) stored, {result.new} new, {result.unfinished} unfinished; "
        f"{service.stored_count()} in the local history"
    )
    return EXIT_OK


async def cmd_star(args: argparse.Namespace, service: MjService) -> int:
    task = service.star(args.id, not args.off)
    print(_task_row(task))
    return EXIT_OK


async def cmd_tag(args: argparse.Namespace, service: MjService) -> int:
    from .core.models import normalize_tag

    bad = [name for name in args.names if normalize_tag(name) is None]
    if bad:
        raise UsageError(f"not a tag: {_line(bad[0])!r} (a-z, 0-9, '-' and '_', up to 32 characters)")
    task = None
    for name in args.names:
        task = service.untag(args.id, name) if args.remove else service.tag(args.id, name)
    assert task is not None
    print(_task_row(task))
    return EXIT_OK


async def cmd_download(args: argparse.Namespace, service: MjService) -> int:
    task = service.get_cached(args.id)
    if task is None or task.status.value != "SUCCESS":
        task = await service.refresh(args.id)
    if args.quadrant is not None and not task.is_grid:
        raise UsageError(f"Task {_line(task.id)} is not a grid: --quadrant picks a cell of a grid.")
    # `~` in the folder is expanded in the export's thread
    print(await service.export(task, Path(args.output), quadrant=args.quadrant, sidecar=args.sidecar))
    return EXIT_OK


# -- export: many pictures at once, each with its story ----------------------------------

EXPORT_PAGE = 100  # tasks read per page of the history or a search


def _export_arguments(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("export", "save many finished pictures into a folder, each with its prompt written in")
    p.add_argument(
        "query",
        nargs="?",
        default=None,
        metavar="QUERY",
        help="the tasks a search finds (the TUI's search syntax, e.g. 'fox is:starred'); or use --all / --id",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder (made if missing)")
    p.add_argument("--all", action="store_true", help="every task in this profile's local history")
    p.add_argument("--id", action="append", default=[], dest="ids", metavar="ID", help="a task (repeatable)")
    p.add_argument("--upscales-only", action="store_true", help="leave grids out")
    p.add_argument("--quadrants", action="store_true", help="save a grid as its four cells (-u1 .. -u4)")
    p.add_argument("--sidecar", action="store_true", help="also write <name>.json beside each picture")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


async def _tasks_by_id(service: MjService, ids: Sequence[str], failed: dict[str, str]) -> AsyncIterator[Task]:
    for task_id in dict.fromkeys(ids):
        task = service.get_cached(task_id)
        if task is None or task.status != Status.SUCCESS:
            try:
                task = await service.refresh(task_id)
            except MjError as exc:
                failed[task_id] = exc.message
                continue
        yield task


async def _stored_tasks(service: MjService) -> AsyncIterator[Task]:
    number = 1
    while True:
        page = service.cached_page(number, EXPORT_PAGE)
        for task in page.tasks:
            yield task
        if number >= page.pages or not (page.tasks or page.skipped):
            return
        number += 1


def _searched_tasks(service: MjService, query: str) -> tuple[AsyncIterator[Task], int]:
    """The tasks QUERY finds (the local history's search), page after page, and how many.
    The first page is read before anything is exported, so a query the search cannot read
    is a usage error with nothing done."""
    try:
        first = service.search(query, 1, EXPORT_PAGE)
    except QueryError as exc:
        raise _query_problem(query, exc) from None

    async def pages() -> AsyncIterator[Task]:
        page, number = first, 1
        while True:
            for task in page.tasks:
                yield task
            if number >= page.pages or not (page.tasks or page.skipped):
                return
            number += 1
            page = service.search(query, number, EXPORT_PAGE)

    return pages(), first.total


def _export_progress() -> Callable[[ExportProgress], None]:
    """One line per task on stderr; on a terminal, one line rewritten with a bar."""
    tty = sys.stderr.isatty()
    words = {"saved": "saved as", "skipped": "already there as", "failed": "failed:", "left out": "left out:"}

    def show(progress: ExportProgress) -> None:
        what = words.get(progress.outcome, progress.outcome)
        detail = progress.paths[0].name if progress.paths else progress.reason
        if progress.total:
            count = f"{progress.done}/{progress.total}"
            filled = min(20, progress.done * 20 // progress.total)
            bar = f"[{'#' * filled}{' ' * (20 - filled)}] "
        else:
            count, bar = str(progress.done), ""
        line = f"{bar}{count} task {_line(progress.current)} {what} {_line(detail)}"
        if tty:
            width = shutil.get_terminal_size().columns
            sys.stderr.write("\r\x1b[K" + line[: max(20, width - 1)])
        else:
            sys.stderr.write(f"mj-tui: {line}\n")
        sys.stderr.flush()

    return show


async def cmd_export(args: argparse.Namespace, service: MjService) -> int:
    sources = [bool(args.query), args.all, bool(args.ids)]
    if sum(sources) != 1:
        raise UsageError("Say which tasks to export: a QUERY, --all, or --id ID (one of them).")
    if args.upscales_only and args.quadrants:
        raise UsageError("--upscales-only leaves grids out, so --quadrants would have nothing to split.")
    unknown: dict[str, str] = {}
    tasks: AsyncIterator[Task]
    total: int | None
    if args.ids:
        tasks, total = _tasks_by_id(service, args.ids, unknown), len(set(args.ids))
    elif args.all:
        tasks, total = _stored_tasks(service), service.stored_count()
    else:
        tasks, total = _searched_tasks(service, args.query)
    show = _export_progress()
    report = await service.export_many(
        tasks,
        Path(args.output),
        upscales_only=args.upscales_only,
        quadrants=args.quadrants,
        sidecar=args.sidecar,
        on_progress=show,
        total=total,
    )
    if sys.stderr.isatty() and (report.saved or report.skipped or report.failed or report.left_out):
        sys.stderr.write("\n")
    failed = {**unknown, **report.failed}
    if args.json:
        data = {
            "folder": str(report.folder),
            "saved": [str(p) for p in report.saved],
            "skipped": [str(p) for p in report.skipped],
            "failed": failed,
            "left_out": report.left_out,
            "stopped": report.stopped,
        }
        print(json_text(data))
    else:
        for path in sorted([*report.saved, *report.skipped]):
            print(path)
    for reason, ids in _by_reason(failed).items():
        _note(f"could not export {', '.join(_line(i) for i in ids)}: {_line(reason)}")
    for reason, ids in _by_reason(report.left_out).items():
        _note(f"left out {len(ids)} ({_line(reason)})")
    if report.stopped:
        _note(f"export stopped: {_line(report.stopped)} The same command exports the rest and skips what is there.")
    _note(
        f"{len(report.saved)} saved, {len(report.skipped)} already there, {len(report.left_out)} left out, "
        f"{len(failed)} failed, in {report.folder}"
    )
    return EXIT_API if failed or report.stopped else EXIT_OK


def _by_reason(outcomes: dict[str, str]) -> dict[str, list[str]]:
    """task id -> reason, as reason -> task ids: a full disk is said once, not once per task."""
    grouped: dict[str, list[str]] = {}
    for task_id, reason in outcomes.items():
        grouped.setdefault(reason, []).append(task_id)
    return grouped


def cmd_key(args: argparse.Namespace) -> int:
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


def cmd_config(args: argparse.Namespace) -> int:
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


def cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator.options import config_from_args
    from .emulator.server import serve

    config = config_from_args(args)
    if config.seed_history:
        print(
            f"{config.seed_history} finished tasks per dialect belong to the key {config.demo_key!r}: "
            f"MJ_TUI_API_KEY={config.demo_key} mj-tui --base-url http://{args.host}:{args.port} tasks",
            flush=True,
        )
    serve(args.host, args.port, config)
    return EXIT_OK


def run_tui(args: argparse.Namespace) -> int:
    launch = _launch(args, need_key=False, demo_job_seconds=6.0)
    from .ui import gc_tuning

    gc_tuning.hold_for_startup()  # the app lets go after its first frame; finally: on any other way out
    try:
        from .ui.early_frame import draw
    except ImportError:  # (no termios: not a POSIX terminal; Textual draws the first frame)
        pass
    else:
        launch.early_frame = draw(launch)  # before Textual is imported: see early_frame.py
    try:
        try:
            from .ui.app import run_app
        except ImportError:
            if launch.early_frame is not None:
                launch.early_frame.undo()
            print(
                "The TUI is not available in this build; use the scripting commands (mj-tui --help).",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return run_app(launch)
    finally:
        if launch.early_frame is not None:  # the app never took the terminal: as it was, before
            launch.early_frame.undo()  # anything is said on it
        gc_tuning.startup_done()


ASYNC_COMMANDS: dict[str, Callable[[argparse.Namespace, MjService], Awaitable[int]]] = {
    "tasks": cmd_tasks,
    "task": cmd_task,
    "imagine": cmd_imagine,
    "action": cmd_action,
    "dismiss": cmd_dismiss,
    "cancel": cmd_cancel,
    "blend": cmd_blend,
    "describe": cmd_describe,
    "shorten": cmd_shorten,
    "balance": cmd_balance,
    "download": cmd_download,
    "search": cmd_search,
    "sync": cmd_sync,
    "star": cmd_star,
    "tag": cmd_tag,
    "export": cmd_export,
    "batch": lambda args, service: cmd_batch(args, service, confirm_over=CONFIRM_OVER),
    "queue": cmd_queue,
    **MEDIA_COMMANDS,
}
#: commands that follow jobs for a while: a callback server is worth starting for them
LISTENING_COMMANDS = frozenset({"batch", "queue"})
#: commands over the local history alone: no key, no request
LOCAL_COMMANDS = frozenset({"search", "star", "tag"})


def _run(args: argparse.Namespace) -> int:
    if args.command in ASYNC_COMMANDS:
        handler = ASYNC_COMMANDS[args.command]
        local = args.command in LOCAL_COMMANDS or (
            args.command == "queue" and args.queue_command not in ("run", "cancel")
        )
        return asyncio.run(_with_service(args, lambda service: handler(args, service), local=local))
    if args.command == "key":
        return cmd_key(args)
    if args.command == "config":
        return cmd_config(args)
    if args.command == "emulator":
        return cmd_emulator(args)
    if args.command == "doctor":
        return cmd_doctor(args)
    return run_tui(args)


def _failure(error: Exception) -> tuple[str, int]:
    """What a failed command says on stderr, and its exit code."""
    if isinstance(error, (UsageError, QueueUsage)):
        return str(error), EXIT_USAGE
    if isinstance(error, ConfigError):
        return f"configuration problem: {error.message}", EXIT_USAGE
    if isinstance(error, QueryError):  # a search or a tag name that cannot be read
        return f"{error.title}: {error.message}", EXIT_USAGE
    if isinstance(error, PromptRefused):
        return "prompt not sent: " + "; ".join(clean(p, one_line=True) for p in error.problems), EXIT_USAGE
    if isinstance(error, CredentialsError):
        return error.message, EXIT_API
    assert isinstance(error, MjError)
    return f"{error.title}: {error.message}", EXIT_API


def _reader_left() -> int:
    """stdout's reader went away (`mj-tui tasks | head -1`): stop quietly, as cat does.

    Python would complain again when it flushes stdout at exit, so stdout now points at
    /dev/null."""
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        return _reader_left()
    except (UsageError, QueueUsage, MjError) as exc:
        text, code = _failure(exc)
        print(f"mj-tui: {clean(text)}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("mj-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
