"""The view state: its schema (one declaration per field), its URL form, and its transitions."""
