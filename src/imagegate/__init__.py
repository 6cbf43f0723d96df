"""imagegate: one gateway for every image-generation model."""

__version__ = "0.1.0"
