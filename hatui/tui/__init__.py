"""The live terminal UI."""
