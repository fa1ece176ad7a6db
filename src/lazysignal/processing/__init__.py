"""Processing operations on signals: one concern per module; array code never sees a signal."""
