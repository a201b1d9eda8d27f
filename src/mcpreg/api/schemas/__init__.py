"""Public models of the ``/api`` request and response bodies, by concept.

Each model is the wire shape a handler sends or reads (camelCase keys), written as
Pydantic v2 so that ``api.openapi`` can render the OpenAPI 3.1 document from them. Services
return rows or frozen dataclasses; a handler answers with ``Model.of(result)`` (read by
attribute, see ``base.Answer``) and ``api.http.json_response`` writes it by alias. The
console shows the same models' dumps. ``tests/api/test_openapi_responses.py`` proves that
real answers validate against the document.

Not through a model: the official API's ``ServerResponse`` bodies and the release answers
built on them (``services.views``: the stored server.json goes out as stored, on the fast
byte paths), and ``/resolve``'s answers (rendered once per change by
``services.deploy.targets``).

``operations.py`` is how an ``/api`` route is described (``Operation``), and
``catalogue.py`` gathers every concept's ``OPERATIONS``.
"""
