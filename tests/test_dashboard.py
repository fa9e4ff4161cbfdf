"""The live dashboard: its model wrapper and views, its server, and the page in chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from experiments.dashboard import compare, views
from experiments.dashboard.browser_check import (
    free_port,
    http_status,
    page_assets,
    serve,
)
from experiments.dashboard.cli import server_command, server_env
from experiments.dashboard.model import (
    DashboardModel,
    _composed,
    available_switches,
    model_params,
    phase_names,
    switch_overrides,
    tariff_periods,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def week() -> DashboardModel:
    """The small park (20 users), orderly phase, 7 days, stepped once past the end."""
    model = DashboardModel(phase="orderly", park="small", seed=0, days=7)
    for _ in range(8):
        model.step()
    return model


# --------------------------------------------------------------------------- unit (no browser)


def test_tariff_periods_by_price_level() -> None:
    # highest price = peak, lowest = valley, the rest flat; a flat tariff is all flat
    mask = tariff_periods(np.array([0.3, 0.6, 1.0, 0.6]))
    assert mask.tolist() == [
        [False, False, True],
        [False, True, False],
        [True, False, False],
        [False, True, False],
    ]
    assert tariff_periods(np.full(4, 0.5))[:, 1].all()


def test_controls_follow_the_composed_config() -> None:
    params = model_params()
    assert params["phase"]["values"][0] == "orderly"
    assert set(params["park"]["values"]) >= {"small", "default"}
    assert "large" not in params["park"]["values"]  # 10,000 users: not a browser session
    assert params["platform__enabled"] == {
        "type": "Checkbox",
        "value": True,
        "label": "Information platform on",
    }
    assert params["orderly__fairness_weight_cny"]["value"] == 1000.0  # conf default
    keys = {sw.key for sw in available_switches()}
    # agency/DG/EV switches appear only once some phase's config has their keys
    for key in ("agency.alpha", "dg.enabled", "ev.enabled"):
        has = any(
            OmegaConf.select(_composed(p), key, default=None) is not None for p in phase_names()
        )
        assert (key in keys) == has


def test_switch_overrides_only_for_moved_known_keys(week: DashboardModel) -> None:
    cfg = week.cfg
    moved = {"platform__enabled": False, "orderly__fairness_weight_cny": 1000.0}
    assert switch_overrides(cfg, moved) == ["platform.enabled=false"]
    # Keys the config does not have are never emitted; known ones only when moved.
    assert switch_overrides(cfg, {"no_such__switch": 0.2, "nonsense": 1}) == []
    assert switch_overrides(cfg, {"agency__alpha": cfg.agency.alpha}) == []
    assert switch_overrides(cfg, {"agency__alpha": 0.2}) == ["agency.alpha=0.2"]
    off = DashboardModel(days=7, platform__enabled=False, orderly__fairness_weight_cny=0.0)
    assert not off.platform.enabled
    assert off.cfg.orderly.fairness_weight_cny == 0.0
    assert "platform.enabled=false" in off.overrides


def test_model_stops_at_the_last_day_and_posts_the_bills(week: DashboardModel) -> None:
    assert week.days_done == 7 and week.day == 7
    assert not week.running and week.closed
    # the closing month_close posts the accrued tariff bills: ledger = recorder
    bills = views.user_bills(week, 1)
    accrued = week.rec.users["bill_cny"][:7, 1].sum()
    assert bills["amount_cny"].sum() == pytest.approx(accrued, rel=1e-9)
    assert accrued > 0


def test_history_accumulators_conserve_energy(week: DashboardModel) -> None:
    # Σ_days Σ_intervals served_kw · Δt = Σ_days served_kwh, per user
    served_kwh = week.rec.users["served_kwh"][:7].sum(axis=0)
    from_profiles = week.profile_sum_kw.sum(axis=(0, 2)) * week.interval_h
    np.testing.assert_allclose(from_profiles, served_kwh, rtol=1e-9)
    # each interval is in exactly one tariff period
    np.testing.assert_allclose(week.period_kwh.sum(axis=1), served_kwh, rtol=1e-9)
    # 2025-01-06 is a Monday: 5 weekdays and 2 weekend days
    assert week.profile_days.tolist() == [5, 2]
    assert (week.profile_min_kw <= week.profile_max_kw).all()


def test_park_figure_shows_the_last_day(week: DashboardModel) -> None:
    fig = views.park_load_figure(week)
    assert isinstance(fig, Figure)
    top = fig.axes[0]
    served = next(ln for ln in top.get_lines() if ln.get_label() == "served")
    np.testing.assert_allclose(served.get_ydata(), week.rec.intervals["served_kw"][6] / 1e3)
    assert "Day 7" in top.get_title()
    fresh = DashboardModel(days=7)
    assert "press Step" in views.park_load_figure(fresh).axes[0].texts[0].get_text()


def test_events_flows_and_inbox(week: DashboardModel) -> None:
    now = week.clock.time_of(7, 0)
    msgs = week.messages()
    assert (msgs["sent_at"] < now).all()
    box = views.inbox(week, 4)
    assert set(box["kind"]) <= {"plan", "reminder", "notice", "report"}
    n_mine = int(((msgs["recipient"] == 4) | (msgs["recipient"] == -1)).sum())
    assert len(box) == min(n_mine, 200)
    flows = views.flows_by_purpose(week)
    users_to_grid = flows[(flows.payer_group == "users") & (flows.purpose == "tariff")]
    assert users_to_grid["amount_cny"].sum() == pytest.approx(
        week.rec.users["bill_cny"][:7].sum(), rel=1e-9
    )
    for user in (0, 4):
        for make in (
            views.user_load_figure,
            views.peak_valley_figure,
            views.efficiency_figure,
            views.user_bills_figure,
        ):
            assert isinstance(make(week, user), Figure)
    assert isinstance(views.flows_figure(week), Figure)


def test_efficiency_table_is_the_esco_rule(week: DashboardModel) -> None:
    table = views.efficiency_table(week)
    # EI = kWh · 0.1229 kgce/kWh / 1000 / (output / 10^4 CNY) = kWh · 1.229 / output
    expected = table["energy_kwh"] * week.cfg.efficiency.kgce_per_kwh * 10.0 / table["output_cny"]
    np.testing.assert_allclose(table["intensity_tce_per_10k_cny"], expected, rtol=1e-12)
    medians = table.groupby("industry")["intensity_tce_per_10k_cny"].transform("median")
    np.testing.assert_allclose(table["peer_median_tce_per_10k_cny"], medians, rtol=1e-12)
    factor = week.cfg.efficiency.intensity_factor
    assert (table["flag_intensity"] == (table["benchmark_ratio"] > factor)).all()


def _fake_run(root: Path, name: str, phase: str, seed: int, cost: float) -> None:
    run = root / name
    run.mkdir(parents=True)
    cfg = {
        "phase": {"name": phase},
        "park": {"name": "small"},
        "seed": seed,
        "days": 7,
        "platform": {"enabled": True},
    }
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "kpis.json").write_text(json.dumps({"cost_cny_per_kwh": cost}))


def test_comparison_mean_and_ci(tmp_path: Path) -> None:
    for seed, cost in enumerate([1.0, 2.0, 3.0]):
        _fake_run(tmp_path, f"o{seed}", "orderly", seed, cost)
        _fake_run(tmp_path, f"e{seed}", "efficiency", seed, cost + 1.0)
    runs = compare.load_runs(tmp_path)
    assert sorted(runs["variant"].unique()) == ["efficiency", "orderly"]
    assert compare.kpi_columns(runs) == ["cost_cny_per_kwh"]
    summary = compare.summarise(runs, ["cost_cny_per_kwh"]).set_index("variant")
    # orderly 1, 2, 3: mean 2, s = 1, half-width t(0.975, 2)·1/√3 = 4.302653/1.732051 = 2.484138
    assert summary.loc["orderly", "mean"] == pytest.approx(2.0)
    assert summary.loc["orderly", "ci95"] == pytest.approx(2.484138, abs=1e-6)
    assert summary.loc["efficiency", "mean"] == pytest.approx(3.0)
    fig = compare.comparison_figure(summary.reset_index(), "cost_cny_per_kwh")
    assert len(fig.axes[0].patches) == 2
    assert compare.load_runs(tmp_path / "none").empty


def test_cli_binds_localhost_without_telemetry(tmp_path: Path) -> None:
    cmd = server_command()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "--production" in cmd and cmd[4].endswith("experiments/dashboard/app.py")
    env = server_env(tmp_path)
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["PARKSIM_DASHBOARD_RUNS"] == str(tmp_path.resolve())


# --------------------------------------------------------------------------- server and browser


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob") or parsed.hostname in ("127.0.0.1", "localhost")


def test_server_serves_every_asset_the_page_names(tmp_path: Path) -> None:
    with serve(free_port(), tmp_path / "server.log") as url:
        with urllib.request.urlopen(url, timeout=30) as resp:
            html = resp.read().decode()
        assets = page_assets(url, html)
        # the loader's stylesheets and scripts, at least
        assert any(a.endswith(".js") for a in assets) and any(".css" in a for a in assets)
        assert all(_is_local(a) for a in assets), assets
        status = {a: http_status(a) for a in assets}
    assert status == dict.fromkeys(assets, 200)


def _netns_available() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    """Serve, open in chromium, step 3 days: counter and plot change, nothing leaves localhost.

    Inside a network namespace with only the loopback up (where ``unshare -n``
    works) so that offline is proven.
    """
    shot = tmp_path / "dashboard.png"
    cmd = [sys.executable, "-m", "experiments.dashboard.browser_check", "--screenshot", str(shot)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    if _netns_available():
        inner = " ".join(f"'{c}'" for c in cmd)
        cmd = ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {inner}"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["day_before"] == "Day 0 of 28"
    assert re.fullmatch(r"Day 3 of 28 — Wed 2025-01-08", report["day_after"])
    assert report["plot_changed"]
    assert report["controls"] == ["Phase", "Park", "Seed", "Days", "Information platform on"]
    assert report["failed"] == []
    assert report["requests"] and all(_is_local(u) for u in report["requests"])
    assert shot.stat().st_size > 10_000
