"""What comes in: the wire format the snippet and console send, and the study file."""
