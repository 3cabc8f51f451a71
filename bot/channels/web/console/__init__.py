"""The operator console at ``/admin``: the service's state at a glance, and the few actions an
operator takes (retry, publish, pause a subscriber), behind a password.

It stays off until a password is set (``paperboy admin set-password``). Every request under
``/admin`` passes one gate (``gate.py``) before any page is looked up: a session or the login
page, and for a post, the session's CSRF token. What needs the scheduler (publishing, retrying)
comes in from the composition root as ``Operations`` (``actions.py``): channels never import
the CLI or the scheduler.
"""
