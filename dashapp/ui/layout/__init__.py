"""Layout of the shell and the widgets the pages share (no callbacks)."""
