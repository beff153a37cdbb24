"""The live view's screens, one per module."""
