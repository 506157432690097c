"""``migtui serve``: the dashboard in browsers, through textual-serve, for read-only viewers.

Each browser gets its own ``migtui replay --follow DB`` process: a replay of
the live recording, which has no QMP session and a read-only gate, so any
number of viewers open no QMP socket and no key on the page reaches a VM.
``access`` is the token every request must carry, ``viewers`` the server
around textual-serve's aiohttp app. Never imports Textual (the viewers do, in
their own processes).
"""
