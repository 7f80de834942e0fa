"""What a job costs before it is sent (OhMyGPT publishes a price table).

The one place a price is worked out: the composer's estimate, a dialog's "≈14,000 tok",
the confirmation before many jobs and the session's spend all call :func:`price`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import Action, Button, Mode, ProviderKind

if TYPE_CHECKING:
    from .config import Profile

# OhMyGPT "About Midjourney Service": tokens charged per successful task, (FAST, NORMAL)
OHMYGPT_PRICES: dict[str, tuple[int, int]] = {
    Action.IMAGINE: (14000, 7000),
    Action.UPSCALE: (3500, 1750),
    Action.VARIATION: (14000, 7000),
    Action.ZOOM: (14000, 7000),
    Action.PAN: (14000, 7000),
    Action.DESCRIBE: (3500, 1750),
    Action.BLEND: (14000, 7000),
}

# task actions the table does not name, billed as the row they repeat
_SAME_PRICE_AS: dict[str, str] = {Action.REROLL: Action.IMAGINE}


def action_for_button(button: Button) -> Action | None:
    """The action the task a button makes is billed as, where known (price() bills a
    reroll as the imagine it repeats)."""
    made = button.makes
    return None if made == Action.ACTION else made


def price(provider: ProviderKind, action: str, mode: Mode | None, jobs: int = 1) -> int | None:
    """Tokens for `jobs` jobs of `action`, or None when the provider publishes no table."""
    if provider != ProviderKind.OHMYGPT:
        return None
    name = Action.parse(action)
    row = OHMYGPT_PRICES.get(_SAME_PRICE_AS.get(name, name))
    if row is None:
        return None
    return (row[0] if mode in (None, Mode.FAST) else row[1]) * jobs


def price_text(provider: ProviderKind, action: str, mode: Mode | None, jobs: int = 1) -> str:
    """ "≈14,000 tok", or "" where there is no price to show."""
    cost = price(provider, action, mode, jobs)
    return f"≈{cost:,} tok" if cost else ""


def job_cost(profile: Profile, action: str, mode: Mode | None, jobs: int = 1) -> float | None:
    """What `jobs` jobs cost on this profile: OhMyGPT's token table, else the profile's own
    ``prices`` (``action.mode`` before ``action``); None when neither knows."""
    tokens = price(profile.provider, action, mode, jobs)
    if tokens is not None:
        return float(tokens)
    if not profile.prices:
        return None
    name = Action.parse(action)
    name = _SAME_PRICE_AS.get(name, name)
    table = dict(profile.prices)
    key = str(name.value if isinstance(name, Action) else name).lower()
    for candidate in (f"{key}.{mode.value}" if mode else "", key):
        if candidate and candidate in table:
            return table[candidate] * jobs
    return None


def unit_of(profile: Profile) -> str:
    """The unit amounts are counted in: OhMyGPT's tokens, or the profile's price_unit."""
    return "tok" if profile.provider == ProviderKind.OHMYGPT else profile.price_unit


def amount_text(profile: Profile, amount: float) -> str:
    """ "14,000 tok", "$0.05", "1.5 credits": an amount as the profile counts it."""
    unit = unit_of(profile)
    number = f"{amount:,.0f}" if amount == int(amount) and amount >= 100 else f"{amount:,.2f}".rstrip("0").rstrip(".")
    if len(unit) == 1 and not unit.isalnum():  # a currency sign goes first
        return f"{unit}{number}"
    return f"{number} {unit}".strip()
