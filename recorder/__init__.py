"""uxlab's recorder: the collector, its SQLite store and the moderator console."""

__version__ = "0.1.0"
