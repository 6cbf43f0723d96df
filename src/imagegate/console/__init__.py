"""The web console: pages served by the gateway, each a client of its public APIs."""
