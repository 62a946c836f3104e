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


def from_known_fields(cls, data: dict, owner: str):
    """``cls(**data)`` for a dataclass ``cls``; a ConfigError naming ``owner`` and the keys ``cls`` does not
    have (with the ones it has) instead of a TypeError for the first of them."""
    from dataclasses import fields

    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{owner}: unknown keys {unknown}; expected some of {sorted(known)}")
    return cls(**data)
