"""Config schema and loading."""

from hnsim.config.load import ConfigError, apply_overrides, config_sha256, deep_merge, load_config, merge_overlay, validate
from hnsim.config.schema import Config, config_dict

__all__ = ["Config", "ConfigError", "apply_overrides", "config_dict", "config_sha256", "deep_merge", "load_config", "merge_overlay", "validate"]
