"""The YAML configs, shipped in the distribution as the package ``parksim_conf``."""
