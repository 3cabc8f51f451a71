"""The archive: parsers for each incoming format, the store, and the lookups over it.

It knows nothing of channels. Submodules are imported where needed rather than re-exported
here, so a lookup never pays for importing the parsers (or pylatexenc) at start-up.
"""
