"""The shell every page shares: its layout and its callbacks."""
