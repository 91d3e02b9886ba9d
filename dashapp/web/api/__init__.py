"""The JSON API's routes."""
