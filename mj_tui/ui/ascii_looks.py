"""What a terminal whose locale is not UTF-8 is sent instead of characters outside ASCII:
a look-alike of the same width (borders, bars, icons), not mojibake. Without Textual:
the frame drawn before it is loaded (early_frame.py) needs it too."""

from __future__ import annotations

import unicodedata

# what a non-UTF-8 terminal gets instead: box drawing, blocks, the icons mj-tui draws
_ASCII_LOOKS = {
    **dict.fromkeys("─━┄┅┈┉╌╍═▔▁", "-"),
    **dict.fromkeys("│┃┆┇┊┋╎╏║▏▕", "|"),
    **dict.fromkeys("┌┍┎┏┐┑┒┓└┕┖┗┘┙┚┛├┝┞┟┠┡┢┣┤┥┦┧┨┩┪┫┬┭┮┯┰┱┲┳┴┵┶┷┸┹┺┻┼╋╭╮╯╰╔╗╚╝╠╣╦╩╬", "+"),
    **dict.fromkeys("█▉▊▋▌▍▎▓▒", "#"),
    **dict.fromkeys("░", "."),
    **dict.fromkeys("▀▄▐▖▗▘▙▚▛▜▝▞▟", " "),
    "…": ".",
    "·": ".",
    "•": "*",
    "★": "*",
    "☆": "*",
    "✔": "v",
    "✓": "v",
    "✘": "x",
    "✗": "x",
    "×": "x",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "▶": ">",
    "▸": ">",
    "◂": "<",
    "◐": "o",
    "✎": "!",
    "⊘": "-",
    "≈": "~",
    "–": "-",
    "—": "-",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "⚠": "!",
    "◀": "<",
    "▲": "^",
    "▼": "v",
    "⏵": ">",
    "⏸": "=",
    "⟳": "o",
    "●": "o",
    "○": "o",
    "◌": "o",
    "⋯": ".",
    "\u00a0": " ",
}


class _AsciiTable(dict):
    """str.translate's table: ASCII stays, the rest gets a look-alike as wide as it."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if code < 128:
            value = char
        elif char in _ASCII_LOOKS:
            value = _ASCII_LOOKS[char]
        elif unicodedata.combining(char):
            value = ""
        else:
            value = "??" if unicodedata.east_asian_width(char) in "WF" else "?"
        self[code] = value
        return value


ASCII_TABLE = _AsciiTable()


def to_ascii(text: str) -> str:
    return text.translate(ASCII_TABLE)
