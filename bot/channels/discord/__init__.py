"""Discord: the scheduler's channel (``sender``, ``webhook``) and the slash-command bot (``bot``).

Only modules under this package import discord.py. discord.py 2.7 imports ``audioop`` (voice
support, unused here), which Python 3.11-3.12 flag as deprecated; the warning is silenced once
here so that it does not reach operators' logs or fail the tests, which run warnings as errors.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401  (imported once under the filter; later imports reuse it)
