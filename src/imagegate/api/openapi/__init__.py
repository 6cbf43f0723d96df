"""The OpenAPI document (every route's body, parameters and answers) and the offline `/docs`.

Each route's documentation lives here, next to its shape: pydantic models for bodies and
answers, query parameters that mirror `QueryReader`, and a table from (method, path) to the
operation (`routes.py`). `document.py` builds the document from the app's own routes and fails
on a route the table does not describe, so a new route cannot go undocumented.
"""

from imagegate.api.openapi.install import install

__all__ = ["install"]
