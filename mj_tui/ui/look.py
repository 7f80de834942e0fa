"""Styles for text built in Python (Content), where they differ from the stylesheet's.

Muted words use $foreground-muted, not $text-muted. In a Content style Textual 8.2 drops
the alpha of a theme variable written with a percentage ($text-muted is "auto 60%"), so
$text-muted came out as bright as $text: brighter than the words it was meant to sit
behind. $foreground-muted carries its alpha in the colour itself (#E0E0E099 in the
default theme) and blends as meant. Stylesheets (CSS) read $text-muted correctly and keep it.
"""

MUTED = "$foreground-muted"
