"""The library's query language: what a person types in the search line, read into a query
the history store runs (pure and stdlib-only, like the prompt parser).

    ramen watercolor            free words: all of them, in the prompt or the final prompt
    ram                         the last word matches as a prefix while it is being typed
    "bowl of ramen"             a phrase
    status:failed action:upscale mode:relax ar:16:9 v:7 niji has:sref
    since:7d before:2026-11-01 is:starred tag:food
    -word  -"a phrase"  -status:failed          negation

Every part is ANDed. A term this module does not know, or a value it cannot read, raises
:class:`~mj_tui.core.errors.QueryError` naming it, with its place in the query and what is
accepted. Nothing typed ever becomes SQL text: the words reach SQLite as bound parameters
(the FTS5 expression is one, with every word quoted), the terms as fixed facet tokens.

How terms are found fast: each task is indexed as a *document* of three columns, its prompt,
its final prompt, and `facets`, a line of made-up tokens for everything a term can ask
(``stsuccess acupscale mofast ar16x9 ve7 hssref isstarred tg…``). A term is then one more
token to match, in the same full-text index as the words. Dates are not tokens: the store
orders its index by time, so since/before become a range (see history.py).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import QueryError
from .models import Action, Status, normalize_tag

# -- the terms ---------------------------------------------------------------------------

#: term name, one-line help: what completion offers, in this order
TERMS: list[tuple[str, str]] = [
    ("status", "the task's state: failed, done, running, queued, modal, cancelled, unconfirmed"),
    (
        "action",
        "what made it: imagine, upscale, variation, reroll, zoom, pan, blend, describe, shorten, video, edit, "
        "retexture",
    ),
    ("mode", "the speed it ran in: fast, relax, turbo"),
    ("ar", "the prompt's --ar, e.g. ar:16:9 (ar:1:1 also finds prompts without one)"),
    ("v", "the prompt's --v, e.g. v:7, v:6.1 (v:6 also finds 6.1); v:niji for --niji"),
    ("niji", "the prompt uses --niji (niji:6 for --niji 6)"),
    ("has", "the prompt has: sref, cref, oref, p (--p), image (leading image links)"),
    ("since", "made at or after: 7d, 24h, 2w, today, yesterday, 2026-11-01"),
    ("before", "made before: 7d, 24h, 2w, today, yesterday, 2026-11-01"),
    ("is", "is:starred"),
    ("tag", "has this tag of yours, e.g. tag:food"),
    ("profile", "the profile in use (search covers one profile: pick another with --profile)"),
]
_TERM_NAMES = tuple(name for name, _ in TERMS)
_HELP = dict(TERMS)

# value -> the facet tokens it matches (any of them)
_STATUS: dict[str, tuple[Status, ...]] = {
    "failed": (Status.FAILURE,),
    "done": (Status.SUCCESS,),
    "running": (Status.IN_PROGRESS, Status.UNKNOWN),
    "queued": (Status.NOT_START, Status.SUBMITTED),
    "modal": (Status.MODAL,),
    "cancelled": (Status.CANCEL,),
    "unconfirmed": (Status.UNCONFIRMED,),
}
_STATUS_ALIASES = {"failure": "failed", "success": "done", "canceled": "cancelled", "waiting": "modal"}
_ACTION: dict[str, tuple[Action, ...]] = {
    "imagine": (Action.IMAGINE,),
    "upscale": (Action.UPSCALE,),
    # Vary (Region) makes an INPAINT task on midjourney-proxy
    "variation": (Action.VARIATION, Action.INPAINT),
    "reroll": (Action.REROLL,),
    # the proxy names a zoom out OUTPAINT
    "zoom": (Action.ZOOM, Action.OUTPAINT),
    "pan": (Action.PAN,),
    "blend": (Action.BLEND,),
    "describe": (Action.DESCRIBE,),
    "shorten": (Action.SHORTEN,),
    "video": (Action.VIDEO,),
    "edit": (Action.EDIT,),
    "retexture": (Action.RETEXTURE,),
}
_ACTION_ALIASES = {"vary": "variation", "upscaled": "upscale", "variations": "variation"}
_MODES = ("fast", "relax", "turbo")
_HAS = ("sref", "cref", "oref", "p", "image")
_HAS_ALIASES = {"personalize": "p", "images": "image", "img": "image"}
_IS = ("starred",)
_SINCE_EXAMPLES = ("24h", "7d", "2w", "30d", "today", "yesterday")

_ASPECT = re.compile(r"(\d{1,5}):(\d{1,5})")
_VERSION = re.compile(r"(\d{1,3})(?:\.(\d{1,3}))?")
_NIJI = re.compile(r"niji ?(\d{1,3}(?:\.\d{1,3})?)?")
_AGO = re.compile(r"(\d{1,6})([hdw])")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TERM_HEAD = re.compile(r"([A-Za-z]+):")
_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}

# -- facet tokens (the `facets` column) --------------------------------------------------
# Letters and digits only, so the full-text tokenizer keeps each one whole; the prefixes
# keep every kind apart, and every value comes from a fixed set (never from server text).
ALL = "all"  # on every document: what a query of only negations starts from
STARRED = "isstarred"


def status_token(status: Status) -> str:
    return "st" + status.value.lower().replace("_", "")


def action_token(action: str) -> str:
    parsed = Action.parse(action)
    return "ac" + parsed.value.lower() if isinstance(parsed, Action) else "acother"


def tag_token(tag: str) -> str:
    # tags may hold '-' and '_', which the tokenizer splits on: hex keeps one token
    return "tg" + tag.encode().hex()


def _version_tokens(number: str) -> list[str]:
    """ "6.1" -> ve6x1 and ve6 (so v:6 finds 6.1 as well); "7" -> ve7."""
    major, _, minor = number.partition(".")
    full = "ve" + major + (f"x{minor}" if minor else "")
    return [full, "ve" + major] if minor else [full]


def _niji_tokens(number: str | None) -> list[str]:
    if not number:
        return ["nj"]
    return ["nj", "nj" + number.replace(".", "x")]


def prompt_facets(prompt: str) -> set[str]:
    """The facet tokens a prompt's parameters give (--ar, --v, --niji, --sref, ...)."""
    # the prompt parser loads on first use, the package before its module (see prompt/__init__.py)
    from .prompt import scan as scanning

    normalize_version = scanning.normalize_version
    tokens: set[str] = set()
    scanned = scanning.scan(prompt)
    if scanned.urls:
        tokens.add("hsimage")
    for param in scanned.params:
        name = param.spec.name if param.spec else ""
        value = (param.value or "").strip()
        if name == "aspect":
            match = _ASPECT.match(value)
            if match:
                tokens.add(f"ar{int(match.group(1))}x{int(match.group(2))}")
        elif name == "version":
            number = normalize_version(value) if value else None
            if number and number.startswith("niji"):
                tokens.update(_niji_tokens(number[5:] or None))
            elif number:
                tokens.update(_version_tokens(number))
        elif name == "niji":
            number = normalize_version(value) if value else None
            tokens.update(_niji_tokens(number if number and not number.startswith("niji") else None))
        elif name in ("sref", "cref", "oref"):
            tokens.add("hs" + name)
        elif name == "personalize":
            tokens.add("hsp")
    return tokens


# made from a prompt Midjourney renders at 1:1 unless --ar says otherwise
_DEFAULT_SQUARE = frozenset(
    {
        Action.IMAGINE,
        Action.UPSCALE,
        Action.VARIATION,
        Action.REROLL,
        Action.ZOOM,
        Action.OUTPAINT,
        Action.PAN,
        Action.INPAINT,
    }
)


@dataclass(frozen=True)
class Document:
    """A task as the search index holds it."""

    prompt: str
    final_prompt: str
    facets: str


def document(
    *,
    prompt: str,
    final_prompt: str,
    status: Status,
    action: str,
    mode: str | None,
    starred: bool = False,
    tags: Iterable[str] = (),
) -> Document:
    """What the index keeps of one task: its text (the final prompt only where it differs)
    and its facet tokens."""
    final = final_prompt if final_prompt.strip() != prompt.strip() else ""
    tokens = {ALL, status_token(status), action_token(action)}
    if mode:
        tokens.add("mo" + mode.lower())
    params = prompt_facets(prompt)
    if final:
        params |= prompt_facets(final)
    if not any(t.startswith("ar") for t in params) and Action.parse(action) in _DEFAULT_SQUARE and prompt.strip():
        params.add("ar1x1")
    tokens |= params
    if starred:
        tokens.add(STARRED)
    tokens.update(tag_token(t) for t in tags)
    return Document(prompt, final, " ".join(sorted(tokens)))


# -- words as the index sees them -------------------------------------------------------


def words_of(text: str) -> list[str]:
    """`text` split into words the way SQLite's unicode61 tokenizer does (letters, digits
    and private-use characters make words; case and diacritics do not count)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    words: list[str] = []
    current: list[str] = []
    for ch in folded:
        category = unicodedata.category(ch)
        if category[0] in "LN" or category == "Co":
            current.append(ch)
        elif category == "Mn":
            continue  # a diacritic split off by NFKD
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def plain(doc: Document) -> Document:
    """The document as the fallback store (SQLite without FTS5) keeps it: each column as
    ' word word ', so LIKE '% word %' finds whole words exactly as the index would."""

    def spaced(words: Sequence[str]) -> str:
        return f" {' '.join(words)} " if words else ""

    return Document(spaced(words_of(doc.prompt)), spaced(words_of(doc.final_prompt)), f" {doc.facets} ")


# -- the query ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One part of a query: free words (a phrase of them) or a term (any of its tokens)."""

    negated: bool
    #: the text as typed, for the full-text index (a word, or a phrase's inside)
    text: str = ""
    #: the words of `text` (for the fallback); empty for a term
    words: tuple[str, ...] = ()
    #: a term's facet tokens, any of which matches
    facets: tuple[str, ...] = ()
    #: the last word as it is being typed: it matches as a prefix
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    text: str
    clauses: tuple[Clause, ...] = ()
    #: epoch seconds: tasks made at or after this
    since: float | None = None
    #: epoch seconds: tasks made before this
    before: float | None = None

    @property
    def everything(self) -> bool:
        """No condition at all: the whole list."""
        return not self.clauses and self.since is None and self.before is None


def _error(message: str, start: int, end: int) -> QueryError:
    return QueryError(message, start=start, end=end)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def _clean_value(text: str) -> str:
    """A value as echoed back in a message: short, and nothing a terminal would act on."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _local_midnight(day: datetime) -> float:
    return datetime(day.year, day.month, day.day).timestamp()  # naive: the local calendar


def _moment(value: str, now: float, name: str, start: int, end: int) -> float:
    low = value.lower()
    if low == "today":
        return _local_midnight(datetime.fromtimestamp(now))
    if low == "yesterday":
        return _local_midnight(datetime.fromtimestamp(now) - timedelta(days=1))
    ago = _AGO.fullmatch(low)
    if ago:
        return now - int(ago.group(1)) * _SECONDS[ago.group(2)]
    date = _DATE.fullmatch(low)
    if date:
        try:
            return datetime(int(date.group(1)), int(date.group(2)), int(date.group(3))).timestamp()
        except (ValueError, OverflowError, OSError):
            raise _error(f"{name}: “{_clean_value(value)}” is not a date.", start, end) from None
    raise _error(
        f"{name}: takes a time ago (24h, 7d, 2w), today, yesterday, or a date (2026-11-01); "
        f"not “{_clean_value(value)}”.",
        start,
        end,
    )


def _pick(name: str, value: str, choices: Sequence[str], aliases: dict[str, str], start: int, end: int) -> str:
    low = value.lower()
    low = aliases.get(low, low)
    if low in choices:
        return low
    if not value:
        raise _error(f"{name}: needs a value: {_choices(choices)}.", start, end)
    raise _error(f"{name}: takes {_choices(choices)}; not “{_clean_value(value)}”.", start, end)


@dataclass
class _Bounds:
    since: float | None = None
    before: float | None = None

    def at_least(self, moment: float) -> None:
        self.since = moment if self.since is None else max(self.since, moment)

    def earlier_than(self, moment: float) -> None:
        self.before = moment if self.before is None else min(self.before, moment)


def _term(
    name: str, value: str, negated: bool, span: tuple[int, int], vspan: tuple[int, int], ctx: _Context
) -> Clause | None:
    """One term as a clause (None: it narrows the time range instead)."""
    vstart, vend = vspan
    if not value and name != "niji":
        raise _error(f"{name}: needs a value: {_HELP[name]}.", *span)
    if name == "status":
        key = _pick(name, value, tuple(_STATUS), _STATUS_ALIASES, vstart, vend)
        return Clause(negated, facets=tuple(status_token(s) for s in _STATUS[key]))
    if name == "action":
        key = _pick(name, value, tuple(_ACTION), _ACTION_ALIASES, vstart, vend)
        return Clause(negated, facets=tuple(action_token(a) for a in _ACTION[key]))
    if name == "mode":
        return Clause(negated, facets=("mo" + _pick(name, value, _MODES, {}, vstart, vend),))
    if name == "has":
        return Clause(negated, facets=("hs" + _pick(name, value, _HAS, _HAS_ALIASES, vstart, vend),))
    if name == "is":
        return Clause(negated, facets=("is" + _pick(name, value, _IS, {}, vstart, vend),))
    if name == "ar":
        match = _ASPECT.fullmatch(value)
        if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
            raise _error(f"ar: takes an aspect ratio W:H such as 16:9; not “{_clean_value(value)}”.", vstart, vend)
        return Clause(negated, facets=(f"ar{int(match.group(1))}x{int(match.group(2))}",))
    if name in ("v", "niji"):
        low = value.lower()
        niji = _NIJI.fullmatch(low) if name == "v" else _NIJI.fullmatch(f"niji{low}")
        if niji and (name == "niji" or low.startswith("niji")):
            number = niji.group(1)
            if number:
                major, _, minor = number.partition(".")
                number = str(int(major)) + (f".{minor.rstrip('0')}" if minor.rstrip("0") else "")
            return Clause(negated, facets=(_niji_tokens(number)[-1],))
        version = _VERSION.fullmatch(low) if name == "v" else None
        if version:
            minor = (version.group(2) or "").rstrip("0")
            return Clause(
                negated, facets=(_version_tokens(str(int(version.group(1))) + (f".{minor}" if minor else ""))[0],)
            )
        accepted = "a version such as 7, 6.1 or niji" if name == "v" else "a niji version such as 6"
        raise _error(f"{name}: takes {accepted}; not “{_clean_value(value)}”.", vstart, vend)
    if name == "tag":
        tag = normalize_tag(value)
        if tag is None:
            raise _error(
                f"tag: takes a tag name (a–z, 0–9, '-' and '_', up to 32); not “{_clean_value(value)}”.",
                vstart,
                vend,
            )
        return Clause(negated, facets=(tag_token(tag),))
    if name in ("since", "before"):
        moment = _moment(value, ctx.now, name, vstart, vend)
        # -since:7d is before:7d, and the other way round
        if (name == "since") != negated:
            ctx.bounds.at_least(moment)
        else:
            ctx.bounds.earlier_than(moment)
        return None
    if name == "profile":
        if ctx.profile is not None and value == ctx.profile and not negated:
            return None
        current = f" (this one is “{_clean_value(ctx.profile)}”)" if ctx.profile else ""
        raise _error(
            f"profile: search covers the profile in use{current}; for another one run mj-tui with "
            f"--profile {_clean_value(value) or 'NAME'}.",
            *span,
        )
    raise AssertionError(name)  # pragma: no cover - every name in _TERM_NAMES is handled


@dataclass
class _Context:
    now: float
    profile: str | None
    bounds: _Bounds


@dataclass(frozen=True)
class _Piece:
    """A run of the query: one word, term or phrase."""

    start: int
    end: int
    negated: bool
    text: str  # without the '-' and the quotes
    quoted: bool
    closed: bool  # a phrase with its closing quote (an open one is still being typed)


def _pieces(query: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start = i
        negated = query[i] == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-"
        if negated:
            i += 1
        if query[i] == '"':
            close = query.find('"', i + 1)
            end = n if close < 0 else close + 1
            pieces.append(_Piece(start, end, negated, query[i + 1 : close if close >= 0 else n], True, close >= 0))
            i = end
            continue
        j = i
        while j < n and not query[j].isspace():
            j += 1
        pieces.append(_Piece(start, j, negated, query[i:j], False, True))
        i = j
    return pieces


def parse(query: str, *, now: float | None = None, profile: str | None = None) -> Query:
    """Read a query; QueryError (with the culprit's place) when it cannot be.

    `profile` is the name of the profile being searched (``profile:`` may name it)."""
    ctx = _Context(time.time() if now is None else now, profile, _Bounds())
    clauses: list[Clause] = []
    pieces = _pieces(query)
    typing = bool(query) and not query[-1].isspace()
    for index, piece in enumerate(pieces):
        last = typing and index == len(pieces) - 1
        head = None if piece.quoted else _TERM_HEAD.match(piece.text)
        if head and not piece.text[head.end() :].startswith("//"):  # a URL is a word
            name = head.group(1).lower()
            name_start = piece.end - len(piece.text)
            if name not in _TERM_NAMES:
                raise _error(
                    f"Unknown search term “{_clean_value(head.group(1))}:”. Terms: "
                    + ", ".join(f"{n}:" for n in _TERM_NAMES if n != "niji")
                    + ", niji; or -term to leave out.",
                    name_start,
                    name_start + len(head.group(0)),
                )
            value = piece.text[head.end() :]
            vstart = name_start + head.end()
            clause = _term(name, value, piece.negated, (piece.start, piece.end), (vstart, piece.end), ctx)
            if clause is not None:
                clauses.append(clause)
            continue
        if not piece.quoted and piece.text.lower() == "niji":
            clauses.append(Clause(piece.negated, facets=("nj",)))
            continue
        words = tuple(words_of(piece.text))
        if not words:
            continue  # only punctuation: nothing a word index can match
        prefix = last and not (piece.quoted and piece.closed)
        clauses.append(Clause(piece.negated, text=piece.text, words=words, prefix=prefix))
    return Query(query, tuple(clauses), ctx.bounds.since, ctx.bounds.before)


# -- the query for SQLite ------------------------------------------------------------------

_TEXT_COLUMNS = "{prompt final_prompt}"


def _fts_part(clause: Clause) -> str:
    if clause.facets:
        return "{facets}: (" + " OR ".join(clause.facets) + ")"
    # the words as the tokenizer cuts them (letters and digits only: nothing FTS5 could
    # read as syntax, no NUL), which is the same phrase the text makes
    quoted = '"' + " ".join(clause.words).replace('"', '""') + '"'
    return f"{_TEXT_COLUMNS}: {quoted}" + (" *" if clause.prefix else "")


def fts_match(query: Query) -> str | None:
    """The FTS5 MATCH expression for the clauses (bound as a parameter), or None when
    there are none (only a time range, or nothing)."""
    if not query.clauses:
        return None
    positive = [_fts_part(c) for c in query.clauses if not c.negated]
    negative = [_fts_part(c) for c in query.clauses if c.negated]
    expression = " AND ".join(f"({p})" for p in positive) if positive else "{facets}: " + ALL
    for part in negative:
        expression = f"({expression}) NOT ({part})"
    return expression


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_where(query: Query) -> tuple[str, list[object]]:
    """The same clauses as an SQL condition over the fallback table's columns (prompt,
    final_prompt, facets, each ' word word '), with its parameters: for SQLite without FTS5."""
    conditions: list[str] = []
    params: list[object] = []
    for clause in query.clauses:
        if clause.facets:
            parts = ["facets LIKE ? ESCAPE '\\'"] * len(clause.facets)
            params.extend(f"% {_like(token)} %" for token in clause.facets)
        else:
            phrase = _like(" ".join(clause.words))
            pattern = f"% {phrase}%" if clause.prefix else f"% {phrase} %"
            parts = ["prompt LIKE ? ESCAPE '\\'", "final_prompt LIKE ? ESCAPE '\\'"]
            params.extend([pattern, pattern])
        condition = "(" + " OR ".join(parts) + ")"
        conditions.append(f"NOT {condition}" if clause.negated else condition)
    return (" AND ".join(conditions) or "1"), params


# -- completion --------------------------------------------------------------------------


def word_span(query: str, cursor: int) -> tuple[int, int]:
    """The run of non-space characters around `cursor`: what a completion replaces."""
    cursor = max(0, min(cursor, len(query)))
    start = cursor
    while start > 0 and not query[start - 1].isspace():
        start -= 1
    end = cursor
    while end < len(query) and not query[end].isspace():
        end += 1
    return start, end


def _values(name: str, tags: Sequence[str], profile: str | None) -> list[str]:
    from .prompt import rules

    if name == "status":
        return list(_STATUS)
    if name == "action":
        return list(_ACTION)
    if name == "mode":
        return list(_MODES)
    if name == "has":
        return list(_HAS)
    if name == "is":
        return list(_IS)
    if name == "ar":
        return [value for value, _ in rules.ASPECT_VALUES]
    if name == "v":
        return [value for value, _ in rules.VERSION_VALUES] + ["niji"] + [f"niji{v}" for v, _ in rules.NIJI_VALUES]
    if name == "niji":
        return [value for value, _ in rules.NIJI_VALUES]
    if name in ("since", "before"):
        return list(_SINCE_EXAMPLES)
    if name == "tag":
        return list(tags)
    if name == "profile":
        return [profile] if profile else []
    return []


def complete_term(query: str, cursor: int, tags: Sequence[str] = (), *, profile: str | None = None) -> list[str]:
    """Completions for the term at `cursor`: term names while the name is typed ("sta" ->
    "status:"), then its values ("status:f" -> "status:failed"); tags come from the caller.

    Each completion replaces ``query[start:end]`` where ``start, end = word_span(query,
    cursor)``, and keeps a leading '-'. Free words get none (the prompt is not completed)."""
    start, _ = word_span(query, cursor)
    typed = query[start : max(start, min(cursor, len(query)))]
    sign = "-" if typed.startswith("-") and not typed.startswith("--") else ""
    typed = typed[len(sign) :]
    if typed.startswith('"'):
        return []
    name, colon, value = typed.partition(":")
    low = name.lower()
    if not colon:
        names = [f"{n}:" if n != "niji" else n for n in _TERM_NAMES if n.startswith(low)]
        return [sign + n for n in names] if low else []
    if low not in _TERM_NAMES:
        return []
    wanted = value.lower()
    return [f"{sign}{low}:{v}" for v in _values(low, tags, profile) if v.lower().startswith(wanted)]


__all__ = [
    "TERMS",
    "Clause",
    "Document",
    "Query",
    "complete_term",
    "document",
    "fts_match",
    "like_where",
    "parse",
    "plain",
    "word_span",
    "words_of",
]
