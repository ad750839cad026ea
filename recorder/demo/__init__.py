"""The demo shop served at ``/demo/A/`` and ``/demo/B/``, and its study file."""
