"""The dialect-free core: one request, one result, and the rules between them."""
