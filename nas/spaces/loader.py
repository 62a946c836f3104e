"""`get_space(name)`: a search space from its Hydra config ``search_spaces/<name>.yaml``."""
from __future__ import annotations

from pathlib import Path

from nas.errors import ConfigError
from nas.paths import SEARCH_SPACES_DIR
from nas.spaces.base import SearchSpace, arch_names



def get_space(name: str, config_dir: str | Path | None = None) -> SearchSpace:
    """Instantiates ``<config_dir>/<name>.yaml`` (default: the repository's search_spaces/)."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    path = Path(config_dir or SEARCH_SPACES_DIR) / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"unknown search space {name!r}: no {path}; expected one of {known or arch_names()}")
    cfg = OmegaConf.load(path)
    if "_target_" not in cfg:
        raise ConfigError(f"{path}: missing _target_ (the SearchSpace class to instantiate)")
    try:
        space = instantiate(cfg, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, ConfigError):
            raise ConfigError(f"{path}: {cause}") from None
        raise ConfigError(f"{path}: {err}") from None
    if not isinstance(space, SearchSpace):
        raise ConfigError(f"{path}: _target_ must be a SearchSpace subclass, got {type(space).__name__}")
    return space
