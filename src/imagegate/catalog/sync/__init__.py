"""`imagegate catalog sync`: upstream listing APIs read into catalog terms, compared with the
catalog, and merged into a user's catalog file.

Pure modules, no network: a listing module (one per upstream: `openrouter`, `fal`,
`replicate`, `together`, `deepinfra`) is given a `Fetch` (a function that GETs JSON) by the
caller, which lives in a layer allowed to do I/O (`cli/catalog_sync.py`). What it reads
becomes `Offer`s, each field filled only where the upstream's figure maps onto the catalog's
vocabulary without a guess; what does not map is kept as a note. `diff` compares the offers
with the catalog, `user_file` merges the result into the user's file without touching what
the user wrote by hand, and `report` renders it.
"""
