"""The one exception type a user sees: what was wrong and what to do about it."""


class LitGansError(ValueError):
    """A problem with the user's input (data, arguments, checkpoint); ``cli.py`` prints it without a traceback."""
