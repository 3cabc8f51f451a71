"""Paperboy: keeps an archive of curated ML papers and publishes a daily digest of them.

Imports flow one way: ``models``/``errors``/``config`` -> ``archive`` -> rendering -> commands
-> ``channels``; ``scheduler`` sits above ``bot``, and ``bot.cli`` is the composition root that
may import everything. ``tests/test_architecture.py`` enforces the direction.
"""

__version__ = "0.1.0"
