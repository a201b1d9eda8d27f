"""The web console at ``/console/``: server-rendered pages over the same services as the API.

Reading works without JavaScript; ``static/console.js`` only adds local times on hover and
focus, and the live pages add their own updates. Sign-in turns a token into a server-side
session (``sessions``); every form carries the session's CSRF token (``csrf``).
"""
