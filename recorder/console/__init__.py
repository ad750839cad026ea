"""The moderator console: pages, read-only queries, the study's report page; templates and static files beside them."""
