"""Public models of the ``/api`` request and response bodies, by concept.

Each model is the wire shape a handler sends or reads today (camelCase keys), written as
Pydantic v2 so that ``api.openapi`` can render the OpenAPI 3.1 document from them. The
services still build these bodies as dicts; ``tests/api/test_openapi_responses.py``
proves that real answers validate against the document, and so against these models.

``operations.py`` is how an ``/api`` route is described (``Operation``), and
``catalogue.py`` gathers every concept's ``OPERATIONS``.
"""
