"""The collector's HTTP API: the snippet's batches, the moderator's events and sessions."""
