"""The error a bad setting raises, apart from the settings so the models file can raise it too."""


class SettingsError(ValueError):
    """A DASHAPP_* variable (or the models file one names) holds a value the app cannot use."""
