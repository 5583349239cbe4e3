"""KC-DM-*: a plugin's background daemons and dual-registry listeners."""
