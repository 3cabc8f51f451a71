"""Decides what goes out when, and keeps the delivery ledger that makes it go out once.

It sits above ``bot`` in the import graph: it may import ``bot``; ``bot`` never imports it
(except ``bot.cli``, the composition root). The scheduler and ledger arrive with issue 4.
"""
