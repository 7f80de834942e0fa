"""What the main screen does with the service, one flow per module.

Each flow reads and changes the :class:`~mj_tui.ui.session.Session`, runs its service
calls as workers of the main screen (so a failure becomes a toast in one place, and the
UI never waits), opens its dialogs, and tells the panes what to show. The screen itself
only lays out the panes and routes keys to the flows.

- :mod:`.connection`  the service: connecting, pages, polling, the balance
- :mod:`.prompts`     sending prompts, one or many (permutations)
- :mod:`.buttons`     a task's buttons, and the modal steps some of them need
- :mod:`.files`       blend and describe (image files), shorten, and picking their prompts
- :mod:`.pictures`    saving, copying and opening a picture
- :mod:`.lineage`     going to the task a task was made from
"""
