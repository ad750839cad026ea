"""SQLite: the schema and its migrations, the single writer, the live feed of committed events."""
