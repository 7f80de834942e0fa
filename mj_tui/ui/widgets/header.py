"""One line of context: profile, provider, mode, queue use, balance, spend."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from ...core.models import Balance
from ..look import MUTED
from ..text import literal


class AppHeader(Widget):
    profile = reactive("")
    provider = reactive("")
    mode = reactive("")
    demo = reactive(False)
    running = reactive(0)
    queue_limit: reactive[int | None] = reactive(None)
    balance: reactive[Balance | None] = reactive(None)
    spent = reactive(0)
    #: jobs in the local queue, waiting for a slot
    waiting = reactive(0)
    paused = reactive(False)
    #: the queue's spend today against the profile's daily cap (shown when there is a cap)
    spent_today = reactive(0.0)
    daily_cap: reactive[float | None] = reactive(None)

    def render(self) -> Content:
        # at 80 columns the labels go; the values keep their order
        wide = self.size.width >= 100
        sep = ("  │  " if wide else " │ ", MUTED)

        def label(text: str) -> tuple[str, str]:
            return (f"{text} " if wide else "", MUTED)

        lead: list = [("mj-tui", "bold $accent")]
        if self.demo:
            lead += [" ", (" DEMO ", "bold $text on $warning")]
        # (what goes first when the line is too long: higher goes later, parts)
        items: list[tuple[int, list]] = [(1, [sep, label("profile"), literal(self.profile)])]
        items.append((0, [sep, literal(self.provider)]))
        if self.mode:
            items.append((2, [sep, label("mode"), (self.mode, "bold")]))
        queue = f"{self.running}/{self.queue_limit}" if self.queue_limit else str(self.running)
        waiting = [(f" +{self.waiting}", "bold")] if self.waiting else []
        pause = [(" ⏸", "bold $error")] if self.paused else []
        items.append(
            (
                4,
                [
                    sep,
                    ("queue ", MUTED),
                    (queue, "bold $warning" if self.running else ""),
                    *waiting,
                    *pause,
                ],
            )
        )
        if self.balance is not None:
            items.append((3, [sep, label("balance"), literal(balance_text(self.balance, short=not wide))]))
        if self.daily_cap is not None:
            items.append((5, [sep, ("today ", MUTED), f"{_figure(self.spent_today)}/{_figure(self.daily_cap)}"]))
        elif self.spent:
            # the one figure that is not self-explaining keeps its name at 80 columns
            items.append((5, [sep, ("spent ", MUTED), f"{self.spent:,}"]))
        # too long for the line: whole items go, least needed first, never a figure cut short
        width = self.size.width
        while items and width and Content.assemble(*lead, *(p for _, item in items for p in item)).cell_length > width:
            items.remove(min(items, key=lambda item: item[0]))
        return Content.assemble(*lead, *(p for _, item in items for p in item))


def balance_text(balance: Balance, short: bool = False) -> str:
    """996500.00 tokens -> "996,500 tokens" (or "996,500 tok" where room is short)."""
    unit = balance.unit or ""
    if short and unit == "tokens":
        unit = "tok"
    try:
        value = float(balance.balance)
    except (TypeError, ValueError):
        return f"{balance.balance} {unit}".strip()
    amount = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return f"{amount} {unit}".strip()


def _figure(amount: float) -> str:
    return f"{amount:,.0f}" if amount >= 100 or amount == int(amount) else f"{amount:,.2f}"
