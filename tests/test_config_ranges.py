"""Every numeric key has a declared range that ``parksim`` enforces before running.

The schema is walked (``iter_ranges``): for every ranged field a value just
outside its range goes through the ``parksim`` entry point in-process — the
same code path as the console script, before Hydra starts — and must give
exit status 2 and a one-line message naming the key, without a traceback.
"""

from __future__ import annotations

import copy
import math

import pytest
import yaml
from omegaconf import MISSING, DictConfig, OmegaConf

from simulation.cli import main
from simulation.config import Config, ConfigError, iter_ranges, validate
from simulation.config._keys import check_keys, check_ranges
from simulation.run import compose_config


def _fmt(value: float, integer: bool) -> str:
    if integer:
        return str(int(value))
    return repr(float(value))


def _bad_overrides() -> list[tuple[str, str]]:
    """(override, key expected in the message) for every value outside every range."""
    base = compose_config(["park=small"])
    names = {
        "park.industries": next(iter(base.park.industries)),
        "efficiency.measures": next(iter(base.efficiency.measures)),
    }
    cases = []
    for key, rng, many in iter_ranges(Config):
        for prefix, name in names.items():
            key = key.replace(f"{prefix}.*.", f"{prefix}.{name}.")
        for bad in rng.outside():
            text = _fmt(bad, rng.integer)
            if not many:
                cases.append((f"{key}={text}", key))
                continue
            default = base
            for part in key.split("."):
                default = default[part]
            if hasattr(default, "keys"):  # dict of numbers: one entry out of range
                entry = next(iter(default))
                cases.append((f"{key}.{entry}={text}", f"{key}.{entry}"))
            else:  # list: first element out of range, the others kept
                rest = [_fmt(v, rng.integer) for v in list(default)[1:]]
                cases.append((f"{key}=[{','.join([text, *rest])}]", f"{key}[0]"))
    return cases


CASES = _bad_overrides()


def test_the_walk_covers_the_schema():
    # 73 ranged keys today (three at the root, 25 park, 15 grid, 10 orderly,
    # 3 platform, 17 efficiency); every one has a value below its range.
    keys = {k for k, _, _ in iter_ranges(Config)}
    assert len(keys) >= 70
    assert {"days", "grid.penalty_cny_per_kwh", "efficiency.beta"} <= keys
    assert len(CASES) > len(keys)


def test_every_value_outside_its_range_exits_2_naming_the_key(capsys):
    failures = []
    for override, key in CASES:
        with pytest.raises(SystemExit) as exc:
            main(["park=small", override])
        err = capsys.readouterr().err
        if exc.value.code != 2 or key not in err or "Traceback" in err:
            failures.append((override, exc.value.code, err[-300:]))
        elif len(err.strip().splitlines()) != 1:
            failures.append((override, "more than one line", err))
    assert not failures, failures


def _walk_error(node: object) -> str | None:
    """The message of the schema walks on ``node`` (None when it passes)."""
    try:
        check_keys(node, Config)
        check_ranges(node, Config)
    except ConfigError as err:
        return str(err)
    return None


def test_the_walks_on_the_plain_container_find_what_they_find_on_the_dictconfig():
    # validate walks OmegaConf.to_container(cfg, resolve=True) (simulation.config._keys):
    # a value outside the range of every fourth ranged key (the first value of each;
    # 49 of 196 keys, each walk on a DictConfig takes 16 ms), an unknown key, a
    # missing key and the default config must give the same verdict and message as
    # the walk on the DictConfig.
    base = compose_config(["park=small"])
    configs = [base]
    first = {key: override for override, key in reversed(CASES)}
    for override in list(reversed(first.values()))[::4]:
        cfg = copy.deepcopy(base)
        dotted, _, text = override.partition("=")
        OmegaConf.update(cfg, dotted, yaml.safe_load(text), merge=False)
        configs.append(cfg)
    configs += [compose_config(["park=small", f"+{key}=1"]) for key in ("park.foo", "grid.bar")]
    missing = copy.deepcopy(base)
    missing.park.n_users = MISSING
    configs.append(missing)
    verdicts = [
        (_walk_error(c), _walk_error(OmegaConf.to_container(c, resolve=True))) for c in configs
    ]
    assert verdicts[0] == (None, None)
    assert all(on_node is not None for on_node, _ in verdicts[1:])
    assert [on_node for on_node, _ in verdicts] == [plain for _, plain in verdicts]
    assert "park.foo: unknown key" in verdicts[-3][0]
    assert verdicts[-1][0] == "park.n_users: missing mandatory value (the schema requires it)"


def test_validate_walks_the_plain_container_unless_the_config_does_not_resolve(monkeypatch):
    import simulation.config as config

    walked: list[type] = []
    real = config.check_keys

    def recording(node: object, schema: type, prefix: str = "") -> None:
        walked.append(type(node))
        real(node, schema, prefix)

    monkeypatch.setattr(config, "check_keys", recording)
    validate(compose_config(["park=small"]))
    with pytest.raises(ConfigError, match=r"park\.foo: unknown key"):
        validate(compose_config(["park=small", "+park.foo=${nonexistent}"]))
    assert walked == [dict, DictConfig]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_rejected(value):
    with pytest.raises(ConfigError, match=r"grid\.purchase_cny_per_kwh"):
        validate(compose_config(["park=small", f"grid.purchase_cny_per_kwh={value}"]))


@pytest.mark.parametrize(
    ("override", "key"),
    [
        # the values the issue found crashing mid-run or giving nonsense
        ("platform.plan_lead_days=-3", "platform.plan_lead_days"),
        ("orderly.min_duration_h=100", "orderly.min_duration_h"),
        ("grid.capacity_margin=-2", "grid.capacity_margin"),
        ("park.industries.electronics.shift_h_max=-1", "shift_h_max"),
        ("efficiency.beta=-4", "efficiency.beta"),
        ("efficiency.target_horizon_years=0", "efficiency.target_horizon_years"),
        (
            "grid.tariff_cny_per_kwh_by_hour=[-1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
            "grid.tariff_cny_per_kwh_by_hour[0]",
        ),
        ("grid.emission_tco2_per_mwh=-0.5", "grid.emission_tco2_per_mwh"),
        ("grid.penalty_cny_per_kwh=-2", "grid.penalty_cny_per_kwh"),
        ("~seed", "seed"),
        ("days=100000000", "days"),
        ("start_date=9999-01-01", "start_date"),
        ("start_date=2262-04-01", "start_date"),
        ("start_date=1899-12-31", "start_date"),
        ("start_date=2025-1-6", "start_date"),
        ("start_date=6.1.2025", "start_date"),
        # 2200-12-01 + 31 days ends on 2201-01-01, after the last allowed day
        ("start_date=2200-12-01 days=32", "days"),
        # 100,000 users × 3,650 days × 24 = 8,760,000,000 cells > 4,000,000,000
        ("park=large park.n_users=100000 days=3650", "days"),
        # publish (24 × 1 day = 24 h) must come before the reminder (48 h)
        ("platform.plan_lead_days=1 platform.reminder_lead_h=48", "platform.reminder_lead_h"),
        # reminder (0.1 h) must come before the final notice (15 min = 0.25 h)
        ("platform.reminder_lead_h=0.1", "platform.reminder_lead_h"),
        # a 3 h minimum curtailment cannot fit a 2 h weekly cap
        ("orderly.max_hours_per_week=2 orderly.min_duration_h=3", "orderly.min_duration_h"),
        ("phase.name=../../x", "phase.name"),
        ("phase.name=my_label", "phase.name"),
        ("experiment=platform_valeu", "platform_value"),
    ],
)
def test_issue_cases_exit_2_with_one_line(capsys, override, key):
    with pytest.raises(SystemExit) as exc:
        main(["park=small", *override.split()])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert key in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["2025-01-06", "20250106"])
def test_start_date_iso_and_basic_form_mean_the_same_day(value):
    cfg = compose_config(["park=small", f"start_date={value}"])
    validate(cfg)
    assert cfg.start_date == "2025-01-06"


def test_range_bounds_are_inside():
    for key, rng, _ in iter_ranges(Config):
        for bad in rng.outside():
            assert bad not in rng, key
        if not math.isinf(rng.lo) and not rng.lo_open:
            assert rng.lo in rng, key


@pytest.mark.parametrize(
    ("overrides", "label"),
    [
        (["phase=orderly"], "orderly"),
        (["phase=efficiency"], "efficiency"),
        # switches equal to the efficiency preset: labelled with its name
        (["phase=orderly", "phase.efficiency=true"], "efficiency"),
        (["phase=efficiency", "phase.orderly_plan=false"], "mix-efficiency"),
        (["phase=orderly", "phase.orderly_plan=false"], "mix-none"),
    ],
)
def test_phase_label_follows_the_modules(overrides, label):
    cfg = compose_config(["park=small", *overrides])
    validate(cfg)
    assert cfg.phase.name == label


def _range_ends() -> list[tuple[str, float]]:
    """(key, value) at both ends of every scalar range (just inside an open end)."""
    base = compose_config(["park=small"])
    ind, mea = next(iter(base.park.industries)), next(iter(base.efficiency.measures))
    out = []
    for key, rng, many in iter_ranges(Config):
        if many or key in ("seed", "days", "park.n_users"):  # size: bounded by MAX_CELLS
            continue
        key = key.replace("park.industries.*.", f"park.industries.{ind}.")
        key = key.replace("efficiency.measures.*.", f"efficiency.measures.{mea}.")
        ends = [rng.lo + (1e-3 if rng.lo_open else 0.0)]
        if not math.isinf(rng.hi):
            ends.append(rng.hi - (1e-3 if rng.hi_open else 0.0))
        out += [(key, int(v) if rng.integer else v) for v in ends]
    return out


@pytest.mark.slow
def test_every_accepted_range_end_runs():
    # Efficiency phase over a month boundary (27 Jan + 8 days): weekly plan,
    # month close and adoption all run. A value validate accepts must run;
    # those a rule on several keys rejects (e.g. am_h=24 >= pm_h) are skipped.
    from simulation.run import run_simulation

    crashes = []
    for key, value in _range_ends():
        cfg = compose_config(
            ["park=small", "days=8", "phase=efficiency", "start_date=2025-01-27", f"{key}={value}"]
        )
        try:
            validate(cfg)
        except ConfigError:
            continue
        try:
            run_simulation(cfg, None, progress=False)
        except Exception as err:
            crashes.append((key, value, f"{type(err).__name__}: {err}"))
    assert not crashes, crashes


def test_every_numeric_field_declares_its_range():
    """A new number in the schema without a documented range fails here."""
    import dataclasses
    import typing

    from simulation.config._checks import field_range
    from simulation.config._keys import children

    missing = []

    def walk(schema, prefix=""):
        kids = children(schema)
        hints = typing.get_type_hints(schema)
        for f in dataclasses.fields(schema):
            sub, dict_of = kids[f.name]
            if sub is not None:
                walk(sub, f"{prefix}{f.name}.{'*.' if dict_of else ''}")
                continue
            hint = hints[f.name]
            args = typing.get_args(hint)
            leaf = args[-1] if typing.get_origin(hint) in (list, dict) else hint
            if leaf in (int, float) and hint is not bool and field_range(f) is None:
                missing.append(f"{prefix}{f.name}")

    walk(Config)
    assert not missing, f"numeric keys without a declared range: {missing}"
