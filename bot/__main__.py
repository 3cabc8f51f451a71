"""``python -m bot`` is the same as the ``paperboy`` command."""

from bot.cli import main

main()
