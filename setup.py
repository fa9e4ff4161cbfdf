"""Packaging glue that pyproject.toml cannot express: the configs as a package.

The YAML configs stay at the top level of the repository (``conf/``) and ship
inside the distribution as the package ``parksim_conf`` (every subdirectory a
subpackage, every ``*.yaml`` its data), so that an installed ``parksim`` finds
them through ``importlib.resources`` (``simulation/config/_paths.py``).
Everything else is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import find_packages, setup

CONF = Path(__file__).resolve().parent / "conf"
CONF_PACKAGES = ["parksim_conf"] + [
    "parksim_conf." + ".".join(p.relative_to(CONF).parts)
    for p in sorted(CONF.rglob("*"))
    if p.is_dir() and any(p.glob("*.yaml"))
]

setup(
    packages=[
        *find_packages(include=["simulation*", "agents*", "markets*", "experiments*"]),
        "hydra_plugins.parksim_launchers",  # in Hydra's plugin namespace package
        *CONF_PACKAGES,
    ],
    package_dir={"parksim_conf": "conf"},
    package_data={pkg: ["*.yaml"] for pkg in CONF_PACKAGES},
)
