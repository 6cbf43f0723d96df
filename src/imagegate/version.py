"""The package's version, in a module of its own so that the server and the command line can
read it without importing the library's face."""

__version__ = "0.1.0"
