"""Config schema and validation: every bad value names its key."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigAttributeError, ValidationError

from simulation.config import ConfigError, validate
from simulation.run import compose_config


@pytest.mark.parametrize("park", ["small", "default", "large"])
@pytest.mark.parametrize("phase", ["orderly", "efficiency"])
def test_presets_compose_and_validate(park, phase):
    cfg = compose_config([f"park={park}", f"phase={phase}"])
    validate(cfg)
    assert cfg.phase.name == phase
    assert cfg.park.n_users == {"small": 20, "default": 200, "large": 10_000}[park]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("park.n_users=-5", "park.n_users"),
        ("park.n_users=0", "park.n_users"),
        ("intervals_per_day=7", "intervals_per_day"),
        ("intervals_per_day=25", "intervals_per_day"),
        ("days=0", "days"),
        ("seed=-1", "seed"),
        ("start_date=2025-13-01", "start_date"),
        ("grid.compliance_prob=1.5", "grid.compliance_prob"),
        ("grid.peak_regulation.start_h=16", "grid.peak_regulation.start_h"),
        ("grid.peak_regulation.weekdays=[7]", "grid.peak_regulation.weekdays"),
        ("grid.failures.duration_h=30", "grid.failures.duration_h"),
        ("orderly.method=simplex", "orderly.method"),
        ("orderly.min_duration_h=0", "orderly.min_duration_h"),
        ("park.industries.electronics.rho=2", "park.industries.electronics.rho"),
        ("park.industries.electronics.category=banned", "park.industries.electronics.category"),
        ("park.industries.light_assembly.hourly_shape=[1,2]", "park.industries.light_assembly"),
        ("efficiency.measures.lighting_retrofit.industries=[mining]", "lighting_retrofit"),
        ("+park.foo=1", "park.foo"),
        ("+grid.failures.bar=2", "grid.failures.bar"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(compose_config(["park=small", override]))


@pytest.mark.parametrize("override", ["park.n_userz=5", "days=abc", "platform.enabled=maybe"])
def test_schema_rejects_misspelt_keys_and_types(override):
    with pytest.raises((ConfigCompositionException, ConfigAttributeError, ValidationError)):
        compose_config(["park=small", override])


def test_96_intervals_and_mixed_modules_validate():
    cfg = compose_config(["intervals_per_day=96", "phase=orderly", "phase.efficiency=true"])
    validate(cfg)
    assert cfg.phase.efficiency and cfg.phase.orderly_plan


def test_register_configs_stores_once_and_restores_our_launchers():
    """A second call stores nothing; a plugin entry that replaced ours is put back."""
    from hydra.core.config_store import ConfigStore

    from simulation.config import register_configs

    register_configs()
    cs = ConfigStore.instance()
    launchers = cs.repo["hydra"]["launcher"]
    ours = launchers["submitit_slurm.yaml"]
    schema = cs.repo["parksim_schema.yaml"]
    register_configs()
    assert cs.repo["parksim_schema.yaml"] is schema  # not stored again
    assert launchers["submitit_slurm.yaml"] is ours
    # Hydra's plugin scan re-registers the plugin's own schema under the same name
    from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf

    cs.store(group="hydra/launcher", name="submitit_slurm", node=SlurmQueueConf, provider="x")
    try:
        register_configs()
        entry = cs.repo["hydra"]["launcher"]["submitit_slurm.yaml"]
        assert entry.provider == "parksim"
        assert "parksim_launchers" in str(entry.node._target_)
    finally:
        register_configs()
