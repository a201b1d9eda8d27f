"""Curation of the mirrored catalogue (issue 14): what an admin decides locally, kept
across every sync.

* :mod:`.policy`: ``policy(session, upstream)``, what a sync asks while it applies pages
  (which names it admits, which refuse as clashes, which statuses are local);
* :mod:`.state`: what the release lifecycle asks (``latest`` held by a pin, a status
  PATCH on a mirrored release kept as a local status);
* :mod:`.acts`: the admin's acts (allow, deny, local namespaces, pins) and the listing.

Ownership of namespaces by upstreams is :mod:`mcpreg.services.ownership`.
"""

from mcpreg.services.curation.policy import CurationPolicy, policy

__all__ = ["CurationPolicy", "policy"]
