"""`python -m mj_tui.emulator --port 8787 --job-seconds 6`"""

from .server import main

raise SystemExit(main())
