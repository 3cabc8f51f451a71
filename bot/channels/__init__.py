"""Channels: each adapts rendered output (and, for chats, commands) to one platform.

A module that imports a platform's SDK (feedgen, discord, telegram, an SMTP client) lives here,
under its channel, and nowhere else.
"""
