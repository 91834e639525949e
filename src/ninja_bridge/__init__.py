"""ninja_bridge: serve the Invoice Ninja v4 API on top of a v5 server."""

__version__ = "0.1.0"
