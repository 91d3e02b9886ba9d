"""Configuration: the settings read from the environment, the team's models file, the Celery app."""
