"""What a job costs before it is sent (OhMyGPT publishes a price table)."""

from __future__ import annotations

from .models import Button, ButtonKind, Mode, ProviderKind

# OhMyGPT "About Midjourney Service": tokens charged per successful task, (FAST, NORMAL)
OHMYGPT_PRICES: dict[str, tuple[int, int]] = {
    "IMAGINE": (14000, 7000),
    "UPSCALE": (3500, 1750),
    "VARIATION": (14000, 7000),
    "ZOOM": (14000, 7000),
    "PAN": (14000, 7000),
    "DESCRIBE": (3500, 1750),
    "BLEND": (14000, 7000),
}

_ACTION_BY_KIND = {
    ButtonKind.UPSCALE: "UPSCALE",
    ButtonKind.UPSCALE_HD: "UPSCALE",
    ButtonKind.VARIATION: "VARIATION",
    ButtonKind.VARY_SUBTLE: "VARIATION",
    ButtonKind.VARY_STRONG: "VARIATION",
    ButtonKind.VARY_REGION: "VARIATION",
    ButtonKind.REROLL: "IMAGINE",  # a reroll is a fresh imagine of the same prompt
    ButtonKind.ZOOM: "ZOOM",
    ButtonKind.CUSTOM_ZOOM: "ZOOM",
    ButtonKind.PAN: "PAN",
    ButtonKind.DESCRIBE_PICK: "IMAGINE",
    ButtonKind.DESCRIBE_RETRY: "DESCRIBE",
}


# task actions the table does not name, billed as the row they repeat
_SAME_PRICE_AS = {"REROLL": "IMAGINE"}


def action_for_button(button: Button) -> str | None:
    return _ACTION_BY_KIND.get(button.kind)


def price(provider: ProviderKind, action: str, mode: Mode | None) -> int | None:
    """Tokens for one job, or None when the provider publishes no table."""
    if provider != ProviderKind.OHMYGPT:
        return None
    action = action.upper()
    row = OHMYGPT_PRICES.get(_SAME_PRICE_AS.get(action, action))
    if row is None:
        return None
    return row[0] if mode in (None, Mode.FAST) else row[1]
