"""The feed engine: fetch, parse, expand and diagnose published calendars.

Nothing in this package knows about Flask or the database. Each step takes
values and returns typed values (see ``types.py``), so the web app, the CLI
and the workers call the very same functions.
"""
