"""The HTTP side of the Flask server: the JSON API, access control, headers, compression, assets."""
