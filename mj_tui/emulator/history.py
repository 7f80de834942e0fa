"""Pre-populated history so the demo account's task list is not empty.

Only task records are created here; images are rendered lazily when somebody
asks for one, so 10,000 tasks per dialect cost well under a second.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from . import art
from .buttons import GRID, SINGLE, SINGLE_HD
from .config import Account
from .model import MJPROXY, OHMYGPT, Recipe, Task, new_hash

if TYPE_CHECKING:  # the engine imports this module when it starts
    from .engine import Engine

_SUBJECTS = (
    "a lighthouse on a cliff",
    "a red fox in the snow",
    "an old tram in Lisbon",
    "a koi pond",
    "a paper crane",
    "a desert city at dusk",
    "a glass greenhouse",
    "a sleeping cat",
    "a mountain shrine",
    "a vintage robot gardener",
    "a lantern market",
    "a whale in the clouds",
    "a cozy reading nook",
    "a steam locomotive",
    "a bowl of ramen",
)
_STYLES = (
    "watercolor",
    "isometric illustration",
    "35mm film photo",
    "ukiyo-e print",
    "oil painting",
    "low poly render",
    "pastel gouache",
    "cinematic still",
)
_PARAMS = ("", "", " --ar 3:2", " --ar 2:3", " --ar 16:9", " --v 7", " --s 250", " --niji 6", " --ar 4:5 --v 6.1")
_FAILURES = (
    "[Invalid parameter] Invalid value",
    "[Banned prompt detected] It appears your prompt may contain content that goes against our community standards.",
    "[Job action restricted] Please try again later.",
)
_MODES = {OHMYGPT: ("FAST", "FAST", "NORMAL"), MJPROXY: ("FAST", "FAST", "RELAX", "TURBO")}


def populate(engine: Engine, owner: str, count: int) -> None:
    engine.accounts.setdefault(owner, Account())
    now = engine.clock.now()
    span = max(1, min(365, count // 10)) * 86400.0  # spread over past days
    for dialect in (OHMYGPT, MJPROXY):
        rng = random.Random(f"history:{engine.config.random_seed}:{dialect}")
        grids: list[Task] = []
        singles: list[Task] = []
        for at in sorted(now - 3600 - rng.random() * span for _ in range(count)):
            roll = rng.random()
            pool = grids if roll < 0.33 else singles if roll < 0.37 else []
            parent = rng.choice(pool[-20:]) if pool else None
            if parent is not None and parent.end_at >= at:
                parent = None  # children only of parents finished by then, so times stay causal
            if parent is not None and roll < 0.25:
                n = rng.randint(1, 4)
                singles.append(
                    _child(
                        engine,
                        parent,
                        at,
                        rng,
                        "UPSCALE",
                        SINGLE,
                        ("crop", n),
                        f"/up {parent.id} U{n}",
                        parent.family + (n - 1) * 0.25,
                    )
                )
            elif parent is not None and roll < 0.33:
                n = rng.randint(1, 4)
                grids.append(
                    _child(
                        engine,
                        parent,
                        at,
                        rng,
                        "VARIATION",
                        GRID,
                        ("vary",),
                        f"/variation {parent.id} V{n}",
                        parent.family + (n - 1) * 0.25,
                    )
                )
            elif parent is not None:
                _child(
                    engine,
                    parent,
                    at,
                    rng,
                    "UPSCALE",
                    SINGLE_HD,
                    ("upscale", False),
                    f"/up {parent.id} Subtle",
                    parent.family,
                )
            else:
                prompt = f"{rng.choice(_SUBJECTS)}, {rng.choice(_STYLES)}{rng.choice(_PARAMS)}"
                failure = rng.choice(_FAILURES) if rng.random() < 0.03 else None
                task = _make(
                    engine,
                    owner,
                    dialect,
                    at,
                    rng,
                    action="IMAGINE",
                    kind=GRID,
                    prompt=prompt,
                    mode=rng.choice(_MODES[dialect]),
                    recipe=("grid", prompt),
                    family=art.family_of(prompt),
                    description=f"/imagine {prompt}",
                    failure=failure,
                )
                if failure is None:
                    grids.append(task)


def _make(
    engine: Engine,
    owner: str,
    dialect: str,
    at: float,
    rng: random.Random,
    *,
    action: str,
    kind: str,
    prompt: str,
    mode: str,
    recipe: Recipe,
    family: float,
    description: str,
    failure: str | None = None,
    parent_id: str | None = None,
) -> Task:
    tid = engine.new_id(dialect, at)
    task = Task(
        id=tid,
        dialect=dialect,
        owner=owner,
        submit_at=at,
        hash=new_hash(dialect, tid, engine.config.random_seed),
        start_at=at + rng.uniform(0.5, 3),
        duration=rng.uniform(20, 70),
        prompt_en=prompt,
        final_prompt=prompt,
        action=action,
        kind=kind,
        prompt=prompt,
        mode=mode,
        recipe=recipe,
        family=family,
        description=description,
        failure=failure,
        parent_id=parent_id,
    )
    task.family %= 1.0
    return engine.add(task, active=False)  # charged=True: history is already paid for


def _child(
    engine: Engine,
    parent: Task,
    at: float,
    rng: random.Random,
    action: str,
    kind: str,
    recipe: Recipe,
    description: str,
    family: float,
) -> Task:
    return _make(
        engine,
        parent.owner,
        parent.dialect,
        at,
        rng,
        action=action,
        kind=kind,
        prompt=parent.prompt,
        mode=parent.mode,
        recipe=recipe,
        family=family,
        description=description,
        parent_id=parent.id,
    )
