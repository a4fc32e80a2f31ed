"""Real servers that connector tests start on loopback ports."""
