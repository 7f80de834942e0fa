"""Prompt files: a batch of prompts in a text file, one per line.

::

    # a comment; blank lines are skipped
    @mode relax                  # the lines after this go in Relax
    @image https://example.com/ref.png   # reference images for the lines after it
    @image none                  # ... and none again
    @upscale 1,2                 # follow-ups for the whole batch: U1 and U2 of every grid
    @upscale all                 # ... or all four
    @save ~/Pictures/foxes       # every finished picture saved there, its prompt written in
    @cap 100000                  # the most the batch may spend (tokens, or the profile's unit)
    a red fox in the snow --ar 3:2
    a {red, blue} bird           # permutations: two jobs
    a lighthouse at dusk × 4     # repeated: four jobs (also "x 4")

Each prompt is checked as the prompt box checks it (:func:`plan_prompt`); a line that
would be refused is reported with its number and reason, and the caller chooses to
stop or to skip it. Reading never sends anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import MjError, PromptRefused
from .prompt import PromptPlan

#: the largest prompt file read (a batch of thousands of prompts is far below this)
MAX_BYTES = 4 * 1024 * 1024
#: the most jobs one line may make (a typo like "× 400" is refused, not paid for)
MAX_REPEAT = 40
# "× 4" anywhere at the end; "x 4" only after a word ("a 4 x 4 grid" is a prompt)
_REPEAT = re.compile(r"(?:\s*×\s*|(?<![\d\s])\s+[xX]\s*)(\d{1,4})\s*$")
_REPEAT_AFTER_PARAMS = re.compile(r"\s+[xX]\s*(\d{1,4})\s*$")
_MODES = ("fast", "relax", "turbo")


class PromptFileError(MjError):
    title = "Prompt file"


@dataclass(frozen=True)
class FileJob:
    """One job a prompt file asks for."""

    line: int
    prompt: str
    mode: str | None
    #: paid jobs the prompt makes (a --repeat prompt makes several)
    jobs: int = 1


@dataclass(frozen=True)
class BadLine:
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class PromptFile:
    path: Path | None
    jobs: list[FileJob] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    #: warnings that do not stop a line (Midjourney may ignore a parameter)
    warnings: list[BadLine] = field(default_factory=list)
    upscale: tuple[int, ...] = ()
    save_to: str | None = None
    cap: float | None = None
    #: identifies the file's path and content: running it again resumes the same batch
    source: str = ""


def read_prompt_file(
    path: Path, *, plan: Callable[[str, str | None], PromptPlan], default_mode: str | None = None
) -> PromptFile:
    """Read and check a prompt file. PromptFileError when it cannot be read at all."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PromptFileError(f"{path} is {size:,} bytes: a prompt file is at most {MAX_BYTES:,}.")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PromptFileError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise PromptFileError(f"{path} is a folder, not a prompt file.") from None
    except OSError as exc:
        raise PromptFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PromptFileError(f"{path} is not UTF-8 text (line {line}).") from None
    parsed = parse_prompt_text(text, plan=plan, default_mode=default_mode)
    parsed.path = path
    digest = hashlib.sha256(raw).hexdigest()[:16]
    parsed.source = f"{path.resolve()}#{digest}"
    return parsed


def parse_prompt_text(
    text: str, *, plan: Callable[[str, str | None], PromptPlan], default_mode: str | None = None
) -> PromptFile:
    """The jobs in a prompt file's text; see the module's docstring for the format.
    `plan(prompt, mode)` checks a prompt (PromptRefused says why it would be refused)."""
    result = PromptFile(path=None)
    mode = default_mode
    images: tuple[str, ...] = ()
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            problem = _directive(line, result)
            if problem is None:
                word, _, value = line[1:].partition(" ")
                value = value.strip()
                if word.lower() == "mode":
                    mode = value.lower()
                elif word.lower() == "image":
                    images = () if value.lower() == "none" else (*images, value)
            else:
                result.bad.append(BadLine(number, line, problem))
            continue
        if line.startswith("\\@"):
            line = line[1:]
        repeat = 1
        found = _REPEAT.search(line)
        if found is None and " --" in line:  # "--ar 3:2 x 4": after parameters "x N" can only be a repeat
            found = _REPEAT_AFTER_PARAMS.search(line)
        if found:
            repeat = int(found.group(1))
            line = line[: found.start()].rstrip()
            if not 1 <= repeat <= MAX_REPEAT:
                result.bad.append(BadLine(number, raw_line, f"× {repeat}: a line repeats 1 to {MAX_REPEAT} times"))
                continue
        if images:  # Midjourney reads image links at the start of a prompt as references
            line = " ".join((*images, line))
        try:
            checked = plan(line, mode)
        except PromptRefused as exc:
            result.bad.append(BadLine(number, raw_line, "; ".join(exc.problems) if exc.problems else exc.message))
            continue
        for warning in checked.warnings:
            result.warnings.append(BadLine(number, raw_line, warning.message))
        per_prompt = max(1, checked.jobs // max(1, len(checked.prompts)))
        for _ in range(repeat):
            for prompt in checked.prompts:
                result.jobs.append(FileJob(number, prompt, mode, per_prompt))
    return result


def _directive(line: str, into: PromptFile) -> str | None:
    """Apply a batch-wide directive (``@upscale``, ``@save``, ``@cap``) or check a per-line
    one (``@mode``, ``@image``); the reason it cannot be read, or None."""
    word, _, value = line[1:].partition(" ")
    word, value = word.lower(), value.strip()
    if word == "mode":
        return None if value.lower() in _MODES else f"@mode takes {', '.join(_MODES)} (got {value or 'nothing'})"
    if word == "image":
        if value.lower() == "none" or value.startswith(("http://", "https://")):
            return None
        return f"@image takes an http(s) link to a picture, or none (got {value or 'nothing'})"
    if word == "upscale":
        quadrants = _quadrants(value)
        if quadrants is None:
            return f"@upscale takes all, or quadrants 1-4 such as 1,3 (got {value or 'nothing'})"
        into.upscale = quadrants
        return None
    if word == "save":
        if not value:
            return "@save needs a folder"
        into.save_to = str(Path(value).expanduser())
        return None
    if word == "cap":
        try:
            cap = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            cap = -1.0
        if cap < 0:
            return f"@cap takes an amount such as 100000 (got {value or 'nothing'})"
        into.cap = cap
        return None
    return f"@{word} is not a directive (there are @mode, @image, @upscale, @save, @cap)"


def _quadrants(value: str) -> tuple[int, ...] | None:
    value = value.strip().lower()
    if value == "all":
        return (1, 2, 3, 4)
    try:
        quadrants = sorted({int(v.strip().lstrip("uU")) for v in value.replace(" ", ",").split(",") if v.strip()})
    except ValueError:
        return None
    if not quadrants or any(not 1 <= q <= 4 for q in quadrants):
        return None
    return tuple(quadrants)


def quadrants_option(value: str) -> tuple[int, ...] | None:
    """`--upscale all|1,3` as the CLI takes it (the same as @upscale)."""
    return _quadrants(value)
