"""Telegram: the digest sender (``sender``) and the chat bot (``bot``), both python-telegram-bot.

PTB 22 is moving its time periods (``RetryAfter.retry_after`` among them) from int seconds to
``timedelta`` and warns on every read of the old form; Paperboy opts into the new form now, as
PTB's deprecation notice asks, so the values are exact and the logs stay quiet.
"""

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")
