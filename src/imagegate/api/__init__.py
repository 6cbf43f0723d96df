"""Client surfaces: one package per dialect, each only translating to and from the core."""
