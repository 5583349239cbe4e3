"""A stand-in for the installed host's ``agent`` package (only the base classes tests need)."""
