"""The `composer` fixture: compose `kws-nas search`'s config in-process, Hydra's runtime set as in the app."""
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

from nas.search.cli import CONF_DIR
from nas.search.schema import register_configs


@pytest.fixture
def composer():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        def _compose(overrides):
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
            HydraConfig.instance().set_config(cfg)
            return cfg
        yield _compose
    GlobalHydra.instance().clear()
