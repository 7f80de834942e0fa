"""Permutation prompts: ``a {red, blue} bird`` is two prompts, expanded as Midjourney does.

Nested groups expand in place, the last group varies fastest, and ``\\,`` inside braces is
a literal comma. Each expanded variant keeps a map back to the text as typed, so the linter
can underline a problem in the right place.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from . import rules
from .scan import INT_RE, Issue, PromptError, scan

_MAX_DEPTH = 32
_BRACE_RE = re.compile(r"[{},]|\\,")


@dataclass(slots=True)
class TextPiece:
    text: str
    start: int  # span in the original text ("\," maps one character to two)
    end: int


@dataclass(slots=True)
class Group:
    """One ``{…}`` group: its span and its options, each a sequence of its own."""

    start: int
    end: int = -1
    options: list[Pieces] = field(default_factory=lambda: [[]])


#: a prompt with braces, read: literal text and groups in order (options nest)
Pieces = list[TextPiece | Group]


def _flush(seq: Pieces, text: str, a: int, b: int, rstrip: bool = False) -> None:
    s = text[a:b]
    if rstrip:
        s = s.rstrip()
    if s:
        seq.append(TextPiece(s, a, a + len(s)))


def _trim(option: Pieces) -> None:
    """Options are trimmed like Midjourney does: "{red, green}" -> "red", "green"."""
    while option and isinstance(option[0], TextPiece) and option[0].end - option[0].start == len(option[0].text):
        lit = option[0]
        s = lit.text.lstrip()
        if s:
            option[0] = TextPiece(s, lit.end - len(s), lit.end)
            break
        option.pop(0)
    while option and isinstance(option[-1], TextPiece) and option[-1].end - option[-1].start == len(option[-1].text):
        lit = option[-1]
        s = lit.text.rstrip()
        if s:
            option[-1] = TextPiece(s, lit.start, lit.start + len(s))
            break
        option.pop()


def parse_braces(text: str) -> Pieces:
    """Text -> sequence of TextPiece and Group (whose options are sequences). Iterative, linear."""
    root: Pieces = []
    stack: list[Group] = []
    cur = root
    lit_start = 0
    for m in _BRACE_RE.finditer(text):
        i, tok = m.start(), m.group()
        if tok == "{":
            _flush(cur, text, lit_start, i)
            g = Group(i)
            cur.append(g)
            stack.append(g)
            if len(stack) > _MAX_DEPTH:
                raise PromptError(f"Braces are nested more than {_MAX_DEPTH} deep", i, i + 1)
            cur = g.options[-1]
        elif tok == "}":
            if not stack:
                raise PromptError(f"Unmatched “}}” at character {i + 1}: add a “{{” or remove it", i, i + 1)
            _flush(cur, text, lit_start, i)
            g = stack.pop()
            g.end = i + 1
            for option in g.options:
                _trim(option)
            cur = stack[-1].options[-1] if stack else root
        elif not stack:
            continue  # "," and "\," outside braces are plain text
        elif tok == ",":
            _flush(cur, text, lit_start, i)
            stack[-1].options.append([])
            cur = stack[-1].options[-1]
        else:  # "\," is a literal comma; the docs show "pastel \, yellow" -> "pastel, yellow"
            _flush(cur, text, lit_start, i, rstrip=True)
            cur.append(TextPiece(",", i, i + 2))
        lit_start = m.end()
    if stack:
        g = stack[-1]
        raise PromptError(f"Unclosed “{{” at character {g.start + 1}: add a matching “}}”", g.start, g.start + 1)
    _flush(root, text, lit_start, len(text))
    return root


def variant_count(seq: Pieces) -> int:
    n = 1
    for item in seq:
        if isinstance(item, Group):
            n *= sum(variant_count(opt) for opt in item.options)
    return n


def expand(seq: Pieces) -> list[tuple[TextPiece, ...]]:
    """All variants in Midjourney's order: the last group varies fastest, nested in place."""
    out: list[tuple[TextPiece, ...]] = [()]
    for item in seq:
        if isinstance(item, TextPiece):
            out = [(*o, item) for o in out]
        else:
            choices = [c for opt in item.options for c in expand(opt)]
            out = [o + c for o in out for c in choices]
    return out


def first_variant(seq: Pieces) -> tuple[TextPiece, ...]:
    out: list[TextPiece] = []
    for item in seq:
        out.extend((item,) if isinstance(item, TextPiece) else first_variant(item.options[0]))
    return tuple(out)


class Variant:
    """One expanded prompt and a map from its offsets back to the original text."""

    def __init__(self, pieces: tuple[TextPiece, ...]):
        self.pieces = pieces
        self.offsets: list[int] = []
        pos = 0
        for p in pieces:
            self.offsets.append(pos)
            pos += len(p.text)
        self.text = "".join(p.text for p in pieces)

    def _at(self, pos: int) -> tuple[TextPiece, int]:
        k = max(0, bisect.bisect_right(self.offsets, pos) - 1)
        return self.pieces[k], pos - self.offsets[k]

    def _map_start(self, pos: int) -> int:
        if not self.pieces:
            return 0
        if pos >= len(self.text):
            return self.pieces[-1].end
        lit, off = self._at(pos)
        return lit.start + off if lit.end - lit.start == len(lit.text) else lit.start

    def remap(self, issue: Issue) -> Issue:
        start = self._map_start(issue.start)
        if issue.end <= issue.start or not self.pieces:
            end = start
        else:
            lit, off = self._at(min(issue.end, len(self.text)) - 1)
            end = lit.start + off + 1 if lit.end - lit.start == len(lit.text) else lit.end
        return Issue(issue.severity, issue.message, start, max(start, end), issue.code)


def has_braces(text: str) -> bool:
    return "{" in text or "}" in text


def expand_permutations(text: str, *, limit: int = 40) -> list[str]:
    """Expand {a, b} groups into separate prompts, in Midjourney's order.

    Nested groups expand in place; "\\," inside braces is a literal comma. A prompt without
    braces comes back unchanged; expanded prompts have their whitespace collapsed (an empty
    option would otherwise leave double spaces). Raises PromptError on unbalanced braces or
    when there would be more than `limit` prompts.
    """
    if not has_braces(text):
        return [text]
    tree = parse_braces(text)
    n = variant_count(tree)
    if n > limit:
        raise PromptError(f"This prompt expands to {n} prompts, more than the limit of {limit}; remove some options")
    return [" ".join("".join(p.text for p in pieces).split()) for pieces in expand(tree)]


def _repeat_of(text: str) -> int:
    repeat = 1
    for p in scan(text).params:
        if p.spec is not None and p.spec.name == "repeat" and p.value and INT_RE.fullmatch(p.value):
            repeat = max(1, int(p.value))
    return repeat


def job_count(text: str) -> int:
    """Jobs this prompt submits: permutations × --repeat. Never raises (unbalanced braces count as 1)."""
    if not has_braces(text):
        return _repeat_of(text)
    try:
        tree = parse_braces(text)
    except PromptError:
        return _repeat_of(text)
    n = variant_count(tree)
    if n <= rules.MAX_JOBS:  # --repeat may itself be permuted ("--r {2, 3}"): count each variant
        return sum(_repeat_of("".join(p.text for p in v)) for v in expand(tree))
    # beyond any plan's cap the exact figure matters less than staying fast
    return n * _repeat_of("".join(p.text for p in first_variant(tree)))
