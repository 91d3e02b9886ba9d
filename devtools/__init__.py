"""Tools for tests and benchmarks alike: real servers (gunicorn, redis-server) on loopback."""
