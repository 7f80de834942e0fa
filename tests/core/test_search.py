"""The query language (search.py) and the library in the store (history.py): real SQLite."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from mj_tui.core import history as history_module
from mj_tui.core import search
from mj_tui.core.errors import MjError, QueryError, TaskNotFound
from mj_tui.core.history import History, task_to_dict
from mj_tui.core.models import Action, Mode, ProviderKind, Status, Task

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NS = "me|ohmygpt|http://x"


def facets(query: str) -> list[tuple[bool, tuple[str, ...]]]:
    return [(c.negated, c.facets) for c in search.parse(query, now=NOW.timestamp(), profile="me").clauses]


# -- parsing -----------------------------------------------------------------------------


def test_every_term_reads_to_its_tokens():
    assert facets("status:failed") == [(False, ("stfailure",))]
    assert facets("status:done status:running status:queued")[1:] == [
        (False, ("stinprogress", "stunknown")),
        (False, ("stnotstart", "stsubmitted")),
    ]
    assert facets("status:canceled status:modal status:unconfirmed") == [
        (False, ("stcancel",)),
        (False, ("stmodal",)),
        (False, ("stunconfirmed",)),
    ]
    assert facets("action:upscale action:vary action:zoom") == [
        (False, ("acupscale",)),
        (False, ("acvariation", "acinpaint")),
        (False, ("aczoom", "acoutpaint")),
    ]
    assert facets("mode:Relax ar:16:9 ar:2:3") == [(False, ("morelax",)), (False, ("ar16x9",)), (False, ("ar2x3",))]
    assert facets("v:7 v:6.1 v:6.10 v:niji v:niji6") == [
        (False, ("ve7",)),
        (False, ("ve6x1",)),
        (False, ("ve6x1",)),
        (False, ("nj",)),
        (False, ("nj6",)),
    ]
    assert facets("niji niji:6 has:sref has:p has:img is:starred tag:#Food") == [
        (False, ("nj",)),
        (False, ("nj6",)),
        (False, ("hssref",)),
        (False, ("hsp",)),
        (False, ("hsimage",)),
        (False, ("isstarred",)),
        (False, (search.tag_token("food"),)),
    ]
    assert facets("profile:me") == []  # the profile in use: no condition


def test_words_phrases_negation_and_the_word_being_typed():
    q = search.parse('Ramen "bowl of" -cat -"red fox" -status:failed wat', now=NOW.timestamp())
    kinds = [(c.negated, c.text, c.words, c.prefix) for c in q.clauses if not c.facets]
    assert kinds == [
        (False, "Ramen", ("ramen",), False),
        (False, "bowl of", ("bowl", "of"), False),
        (True, "cat", ("cat",), False),
        (True, "red fox", ("red", "fox"), False),
        (False, "wat", ("wat",), True),  # the last word, still being typed
    ]
    assert [c for c in q.clauses if c.facets] == [search.Clause(True, facets=("stfailure",))]
    assert not search.parse("wat ", now=0).clauses[0].prefix  # a space ends it
    assert not search.parse('"a phrase"', now=0).clauses[0].prefix
    assert search.parse('"open phrase', now=0).clauses[0].prefix
    assert search.parse("https://x.y/a.png", now=0).clauses[0].words == ("https", "x", "y", "a", "png")
    assert search.parse("  ", now=0).everything and search.parse("-- ...", now=0).everything


def test_since_and_before_are_a_time_range():
    now = NOW.timestamp()
    q = search.parse("since:7d before:24h", now=now)
    assert (q.since, q.before) == (now - 7 * 86400, now - 86400)
    assert search.parse("-since:2w", now=now).before == now - 14 * 86400  # not since: before
    day = search.parse("since:2026-11-01", now=now).since
    assert datetime.fromtimestamp(day).date().isoformat() == "2026-11-01"
    assert search.parse("since:today", now=now).since <= now  # type: ignore[operator]
    assert search.parse("since:30d since:7d", now=now).since == now - 7 * 86400  # the narrower one


@pytest.mark.parametrize(
    ("query", "culprit", "says"),
    [
        ("ramen colour:red", "colour:", "Unknown search term"),
        ("status:dunno", "dunno", "status: takes failed"),
        ("a mode:slow", "slow", "mode: takes fast"),
        ("ar:0:1", "0:1", "aspect ratio"),
        ("v:seven", "seven", "v: takes a version"),
        ("since:someday", "someday", "since: takes"),
        ("before:2026-02-31", "2026-02-31", "is not a date"),
        ("tag:a.b", "a.b", "tag: takes"),
        ("is:pinned", "pinned", "is: takes starred"),
        ("has:", "has:", "has: needs a value"),
        ("profile:work", "profile:work", "--profile work"),
    ],
)
def test_errors_say_what_and_where(query, culprit, says):
    with pytest.raises(QueryError) as caught:
        search.parse(query, now=NOW.timestamp(), profile="me")
    error = caught.value
    assert says in error.message
    assert error.start is not None and error.end is not None
    assert query[error.start : error.end] == culprit


def test_an_error_never_echoes_control_characters():
    with pytest.raises(QueryError) as caught:
        search.parse("status:\x1b[2J", now=0)
    assert "\x1b" not in caught.value.message


def test_completion_of_names_and_values():
    assert search.complete_term("sta", 3) == ["status:"]
    assert search.complete_term("ramen -st", 9) == ["-status:"]
    assert search.complete_term("status:f", 8) == ["status:failed"]
    assert search.complete_term("mode:", 5) == ["mode:fast", "mode:relax", "mode:turbo"]
    assert search.complete_term("tag:fo", 6, ["food", "fox", "bar"]) == ["tag:food", "tag:fox"]
    assert "ar:16:9" in search.complete_term("ar:16", 5)
    assert search.complete_term("ramen", 5) == [] and search.complete_term('"sta', 4) == []
    assert search.complete_term("nope:x", 6) == []
    assert search.word_span("a status:f b", 9) == (2, 10)
    assert [name for name, _ in search.TERMS][:3] == ["status", "action", "mode"]


# -- the store ---------------------------------------------------------------------------


def task(i: int, prompt: str, **kw) -> Task:
    fields = {
        "id": str(1000 + i),
        "provider": ProviderKind.OHMYGPT,
        "status": Status.SUCCESS,
        "prompt": prompt,
        "submit_time": NOW - timedelta(days=i),
        "mode": Mode.FAST,
    }
    fields.update(kw)
    return Task(**fields)


LIBRARY = [
    task(0, "a bowl of ramen, watercolor --ar 16:9 --v 7"),
    task(1, "ramen shop at night --niji 6", mode=Mode.RELAX),
    task(2, "a red fox in the snow --sref 123 --p", status=Status.FAILURE),
    task(3, "Crème brûlée close-up --v 6.1"),
    task(4, "a red fox", action=Action.UPSCALE, status=Status.IN_PROGRESS),
    task(10, "bowl ramen old", final_prompt="bowl ramen old --ar 3:2"),
    task(40, "https://s.mj.run/abc a cat portrait --cref https://x/y.png"),
]


def ids(history: History, query: str, **kw) -> list[str]:
    return [t.id for t in history.search(NS, query, now=NOW.timestamp(), **kw).tasks]


@pytest.fixture(params=["fts5", "plain"])
def library(request, tmp_path, monkeypatch):
    """The store with its full-text index, and as on an SQLite built without FTS5."""
    if request.param == "plain":
        monkeypatch.setattr(history_module, "FTS_SCHEMA", "CREATE VIRTUAL TABLE search USING no_fts5_here(a)")
    history = History(tmp_path / "h.sqlite3")
    assert history._fts == (request.param == "fts5")
    history.upsert(NS, LIBRARY)
    history.upsert("someone|else|x", [task(0, "ramen elsewhere", id="9999")])
    yield history
    history.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ramen", ["1000", "1001", "1010"]),
        ("RAMEN bowl", ["1000", "1010"]),
        ('"bowl of ramen"', ["1000"]),
        ('"ramen bowl"', []),
        ("ram", ["1000", "1001", "1010"]),  # the last word as a prefix
        ("ramen -bowl", ["1001"]),
        ('-"red fox" -ramen -cat', ["1003"]),
        ("creme brulee", ["1003"]),  # diacritics do not count
        ("status:failed", ["1002"]),
        ("-status:done", ["1002", "1004"]),
        ("status:running action:upscale", ["1004"]),
        ("mode:relax", ["1001"]),
        ("ar:16:9", ["1000"]),
        ("ar:3:2", ["1010"]),  # from the final prompt
        ("ar:1:1", ["1001", "1002", "1003", "1004", "1040"]),  # no --ar is square
        ("v:7", ["1000"]),
        ("v:6", ["1003"]),
        ("v:6.1", ["1003"]),
        ("niji", ["1001"]),
        ("v:niji6", ["1001"]),
        ("has:sref has:p", ["1002"]),
        ("has:cref has:image", ["1040"]),
        ("since:3d", ["1000", "1001", "1002", "1003"]),  # at or after
        ("before:3d", ["1004", "1010", "1040"]),
        ("since:20d before:5d", ["1010"]),
        ("since:2026-11-20 fox", ["1002", "1004"]),
    ],
)
def test_search_finds_what_the_query_says(library, query, expected):
    assert ids(library, query) == sorted(expected, key=lambda i: int(i) % 1000)  # newest first


def test_pages_totals_and_profiles_apart(library):
    first = library.search(NS, "-nothingatall", 1, 3, now=NOW.timestamp())
    assert first.total == len(LIBRARY) and [t.id for t in first.tasks] == ["1000", "1001", "1002"]
    assert [t.id for t in library.search(NS, "-nothingatall", 3, 3, now=NOW.timestamp()).tasks] == ["1040"]
    assert library.search(NS, "", 1, 5).total == len(LIBRARY)  # everything: the plain list
    assert ids(library, "elsewhere") == []
    assert [t.id for t in library.search("someone|else|x", "ramen").tasks] == ["9999"]
    assert library.search("nobody", "ramen").total == 0


def test_the_index_follows_every_upsert(library):
    (changed,) = library.upsert(NS, [task(1, "udon shop at night", mode=None)])
    assert changed.mode == Mode.RELAX  # what the server did not repeat is kept
    assert ids(library, "ramen") == ["1000", "1010"] and ids(library, "udon") == ["1001"]
    library.upsert(NS, [task(4, "a red fox", action=Action.UPSCALE, status=Status.SUCCESS)])
    assert ids(library, "status:running") == []
    # a new submit time moves the task in time order
    library.upsert(NS, [task(40, "a cat portrait", submit_time=NOW + timedelta(hours=1))])
    assert ids(library, "-nothing")[0] == "1040"


def test_stars_and_tags_are_ours_and_survive_every_answer(library):
    starred = library.set_starred(NS, "1002")
    assert starred.starred and starred.tags == ()
    assert library.add_tag(NS, "1002", "#Foxes").tags == ("foxes",)
    assert library.add_tag(NS, "1002", "best").tags == ("best", "foxes")
    library.add_tag(NS, "1000", "best")
    assert ids(library, "is:starred") == ["1002"] and ids(library, "tag:best") == ["1000", "1002"]
    assert ids(library, "tag:best -is:starred") == ["1000"]
    assert library.tag_names(NS) == [("best", 2), ("foxes", 1)]
    # the server answers again, and again; nothing of ours is lost
    (again,) = library.upsert(NS, [task(2, "a red fox in the snow --sref 123 --p", status=Status.FAILURE)])
    assert again.starred and again.tags == ("best", "foxes")
    assert library.get(NS, "1002").starred and library.page(NS, 1, 10).tasks[2].tags == ("best", "foxes")
    assert ids(library, "is:starred tag:foxes fox") == ["1002"]
    assert library.remove_tag(NS, "1002", "foxes").tags == ("best",)
    assert not library.set_starred(NS, "1002", False).starred
    assert ids(library, "is:starred") == [] and library.tag_names(NS) == [("best", 2)]
    with pytest.raises(TaskNotFound):
        library.set_starred(NS, "424242")
    with pytest.raises(QueryError):
        library.add_tag(NS, "1000", "not a tag")
    assert library.tag_names("someone|else|x") == []


def test_marks_survive_a_reopen(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = History(path)
    history.upsert(NS, LIBRARY)
    history.set_starred(NS, "1000")
    history.add_tag(NS, "1000", "food")
    history.close()
    again = History(path)
    assert ids(again, "is:starred tag:food ramen") == ["1000"]
    assert again.get(NS, "1000").tags == ("food",)
    again.close()


# -- the store of the version before the library ----------------------------------------

OLD_SCHEMA = """
CREATE TABLE tasks (profile TEXT NOT NULL, id TEXT NOT NULL, sort_key REAL NOT NULL, status TEXT NOT NULL,
    updated REAL NOT NULL, body TEXT NOT NULL, PRIMARY KEY (profile, id));
CREATE INDEX tasks_order ON tasks (profile, sort_key DESC, id DESC);
CREATE INDEX tasks_status ON tasks (profile, status);
CREATE TABLE meta (profile TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (profile, key));
"""


def test_an_old_store_is_upgraded_and_loses_nothing(tmp_path):
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    rows = []
    for t in LIBRARY:
        body = task_to_dict(t)
        del body["starred"], body["tags"]  # the old version wrote neither
        rows.append((NS, t.id, t.submit_time.timestamp(), t.status.value, 0.0, json.dumps(body)))  # type: ignore[union-attr]
    db.executemany("INSERT INTO tasks VALUES (?,?,?,?,?,?)", rows)
    db.execute("INSERT INTO meta VALUES (?, 'server_total', '7')", (NS,))
    db.commit()
    db.close()

    history = History(path)
    assert history.take_notices() == [] and history.memory_only is None
    assert history.page(NS, 1, 20).tasks == LIBRARY  # every task, every field, in order
    assert history.meta(NS, "server_total") == "7"
    assert ids(history, "ramen") == ["1000", "1001", "1010"] and ids(history, "status:failed has:sref") == ["1002"]
    history.add_tag(NS, "1001", "night")
    history.close()
    # opened again: not indexed twice, still all there
    again = History(path)
    assert again.count(NS) == len(LIBRARY) and ids(again, "tag:night ramen") == ["1001"]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] >= 2
    again.close()


def test_an_old_store_opened_for_a_first_frame_is_indexed_later_and_loses_nothing(tmp_path):
    """The TUI opens the store with the index deferred (its first frame needs only the
    tasks): the index is built by ensure_index, or by the first search, whichever comes first."""
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    rows = []
    for t in LIBRARY:
        body = task_to_dict(t)
        del body["starred"], body["tags"]
        rows.append((NS, t.id, t.submit_time.timestamp(), t.status.value, 0.0, json.dumps(body)))  # type: ignore[union-attr]
    db.executemany("INSERT INTO tasks VALUES (?,?,?,?,?,?)", rows)
    db.commit()
    db.close()

    history = History(path, defer_index=True)
    assert history.page(NS, 1, 20).tasks == LIBRARY  # the first frame's page, no index yet
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] < 2
    assert ids(history, "ramen") == ["1000", "1001", "1010"]  # a search builds it first
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] >= 2
    history.close()

    fresh = History(path, defer_index=True)  # indexed already: nothing left for later
    fresh.ensure_index()
    assert ids(fresh, "status:failed has:sref") == ["1002"]
    fresh.close()


def test_a_locked_store_gives_a_clear_error_for_marks_and_search_still_reads(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = History(path, busy_timeout=0.05)
    history.upsert(NS, LIBRARY)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program in the middle of a long write
    try:
        with pytest.raises(MjError, match="locked by another program"):
            history.set_starred(NS, "1000")
        with pytest.raises(MjError, match="locked"):
            history.add_tag(NS, "1000", "food")
        assert ids(history, "ramen") == ["1000", "1001", "1010"]  # reading goes on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert history.set_starred(NS, "1000").starred
    history.close()


def test_an_index_gone_while_in_use_is_rebuilt_and_nothing_is_lost(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    history.upsert(NS, LIBRARY)
    history.add_tag(NS, "1001", "night")
    history._db.execute("DROP TABLE search")  # the store changed under us (another tool)
    assert ids(history, "ramen tag:night") == ["1001"]  # set aside, copied, indexed again
    assert any(n.moved_to is not None for n in history.take_notices())
    assert history.count(NS) == len(LIBRARY)
    history.close()


def test_a_damaged_index_is_rebuilt_from_the_tasks(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = History(path)
    history.upsert(NS, LIBRARY)
    history.set_starred(NS, "1003")
    history.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM search")  # an index lost (e.g. by a tool that dropped it)
    db.commit()
    db.close()
    again = History(path)
    assert ids(again, "creme") == ["1003"] and ids(again, "is:starred") == ["1003"]
    again.close()


@pytest.mark.parametrize(
    "query", ["é)])v:\x00a", 'a"b', "fox*", '"NEAR(a b)"', "AND OR NOT", "^x", "{prompt}: x", "\x00"]
)
def test_nothing_typed_becomes_index_syntax(library, query):
    # an answer, or a term it does not know said with its place: never an SQLite error
    with contextlib.suppress(QueryError):
        library.search(NS, query, now=NOW.timestamp())


def test_what_the_index_cuts_into_words_is_what_the_parser_does(library):
    library.upsert(NS, [task(50, "漢字 emoji😀split don't-stop")])
    assert ids(library, "漢字") == ["1050"] and ids(library, "split") == ["1050"]
    assert ids(library, '"don t stop"') == ["1050"] and ids(library, "don't-stop") == ["1050"]
