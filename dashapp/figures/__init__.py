"""Plotly figure builders: pure functions from numbers to figures."""
