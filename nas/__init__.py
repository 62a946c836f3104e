"""kws-nas: hardware-aware neural architecture search for keyword spotting on Cortex-M."""

__version__ = "0.1.0"
