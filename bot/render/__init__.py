"""Rendering: a digest (a day and its papers) becomes each channel's output, inside its limits.

The only Jinja2 user. ``context`` builds what every template sees; ``environment`` loads the
templates (a deployment's overrides first); one module per output shape (``telegram``,
``discord``, ``email``) keeps that platform's limits. Channels send what this produces.
"""
