"""Plain-Python readers of the real shared data, for independent checks (no c360 import)."""
