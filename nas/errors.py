"""The one exception family kws-nas raises for input the user can fix."""


class KwsNasError(Exception):
    """Bad input: the message names the file or field and what was expected."""


class DataError(KwsNasError):
    """A dataset, wav file or list file is missing or malformed."""


class ConfigError(KwsNasError):
    """A config key, spec field or command-line value is invalid."""


class BudgetError(KwsNasError):
    """A model or search space cannot meet the requested budget."""


class BoardError(KwsNasError):
    """The board is silent, disconnected or replied with something malformed."""
