"""Streamed user rows: the recorder spools blocks of days, the writer streams row groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.figures import envelope, load_svg
from simulation.io import write_tables
from simulation.recorder import Recorder


@settings(max_examples=20, deadline=None)
@given(
    n_days=st.integers(1, 12),
    n_users=st.integers(1, 5),
    spool_values=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_spooled_rows_and_totals_equal_what_was_recorded(
    n_days: int, n_users: int, spool_values: int, seed: int
) -> None:
    """Whatever the block size (1 day to all days), reading the blocks back in order gives
    every recorded row; totals are the sums (max for peak_kw) of the rows."""
    rng = np.random.default_rng(seed)
    energy = rng.uniform(0.0, 100.0, (n_days, n_users))
    peak = rng.uniform(0.0, 10.0, (n_days, n_users))
    rec = Recorder(
        n_days,
        24,
        n_users,
        interval_fields=["served_kw"],
        user_fields=["served_kwh", "peak_kw"],
        spool_values=spool_values,
    )
    for d in range(n_days):
        rec.record(
            d,
            intervals={"served_kw": np.ones(24)},
            users={"served_kwh": energy[d], "peak_kw": peak[d]},
        )
    blocks = list(rec.user_days())
    assert [b[0] for b in blocks] == sorted(b[0] for b in blocks) and blocks[0][0] == 0
    np.testing.assert_array_equal(np.concatenate([b["served_kwh"] for _, b in blocks]), energy)
    np.testing.assert_array_equal(np.concatenate([b["peak_kw"] for _, b in blocks]), peak)
    running = np.zeros(n_users)
    for row in energy:  # totals accumulate day by day (as a (days, users) sum over days)
        running += row
    np.testing.assert_array_equal(rec.user_totals("served_kwh"), running)
    np.testing.assert_allclose(running, energy.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(rec.user_totals("peak_kw"), peak.max(axis=0))
    # One field over every recorded day, read back from the spool and the buffer.
    np.testing.assert_array_equal(rec.user_field("served_kwh"), energy)
    rec.close()


def test_stream_writer_equals_one_table(tmp_path) -> None:
    """Row groups written one frame at a time read back as the concatenated frame,
    with the same dtypes (categorical, datetime, int, float)."""
    frames = [
        pd.DataFrame(
            {
                "date": np.repeat(np.datetime64("2025-01-06") + np.timedelta64(d, "D"), 3),
                "user": np.arange(3),
                "industry": pd.Categorical.from_codes([0, 1, 0], categories=["a", "b"]),
                "served_kwh": np.arange(3) * 1.5 + d,
            }
        )
        for d in range(4)
    ]
    tables = (pa.Table.from_pandas(frame, preserve_index=False) for frame in frames)
    write_tables(tmp_path / "s.parquet", tables, plain_floats=False)
    whole = pd.concat(frames, ignore_index=True)
    whole.to_parquet(tmp_path / "w.parquet", index=False)
    got = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "w.parquet"))
    assert len(got) == 12


def test_envelope_keeps_extremes_and_svg_is_drawn() -> None:
    """10 values in 3 columns of 3, 3 and 4: min/max per column; the SVG names its series."""
    v = np.array([1.0, 5, 2, 0, 3, 3, 9, 1, 1, 1])
    lo, hi, mean = envelope(v, 3)
    np.testing.assert_array_equal(lo, [1, 0, 1])
    np.testing.assert_array_equal(hi, [5, 3, 9])
    np.testing.assert_allclose(mean, [8 / 3, 2, 3])
    svg = load_svg(v * 1e3, v * 900, np.full(10, 8e3), ["2025-01-06"], "t")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "curtailed" in svg and "capacity" in svg


@settings(max_examples=10, deadline=None)
@given(
    n_days=st.integers(1, 9),
    spool_values=st.integers(1, 20),
    read_at=st.integers(0, 9),
    spool_dir=st.sampled_from([None, "run"]),
)
def test_streamed_users_parquet_equals_the_rewritten_one(
    tmp_path_factory, n_days: int, spool_values: int, read_at: int, spool_dir: str | None
) -> None:
    """Rows streamed into users.parquet while recording (whatever the block size, with a
    read-back mid-run that seals a segment, linked or copied into place) read back as the
    file written from the blocks at the end; the file appears only on success."""
    from simulation.io import write_tables
    from simulation.user_rows import UserRows

    tmp = tmp_path_factory.mktemp("s")
    rng = np.random.default_rng(n_days * 100 + spool_values)
    n = 3
    fields = ["served_kwh", "output_cny", "peak_kw"]
    rows = UserRows(
        np.datetime64("2025-01-06", "ns"),
        np.array([0, 1, 0]),
        ["a", "b"],
        np.array([1, 2, 0]),
        0.3,
        fields,
    )
    recs = []
    for stream in (False, True):
        rec = Recorder(
            n_days, 24, n, interval_fields=[], user_fields=fields, spool_values=spool_values
        )
        if stream:
            rec.spool_dir = tmp if spool_dir else None
            rec.stream(rows)
        recs.append(rec)
    for d in range(n_days):
        users = {k: rng.uniform(0.0, 5.0, n) * (rng.random(n) < 0.8) for k in fields}
        for rec in recs:
            rec.record(d, intervals={}, users=users)
        if d == read_at:
            np.testing.assert_array_equal(
                recs[1].user_field("served_kwh"), recs[0].user_field("served_kwh")
            )
    plain, streamed = recs
    write_tables(
        tmp / "plain.parquet",
        (rows.table(f, b) for f, b in plain.user_days()),
        plain_floats=True,
    )
    streamed.write_users(tmp / "users.parquet")
    assert sorted(p.name for p in tmp.iterdir()) == ["plain.parquet", "users.parquet"]
    got = pd.read_parquet(tmp / "users.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp / "plain.parquet"))
    assert len(got) == n_days * n and str(got["industry"].dtype) == "category"
    for rec in recs:
        rec.close()


def test_the_last_blocks_of_a_stream_shrink_by_halves(tmp_path, monkeypatch) -> None:
    """Towards the end a block is streamed once it holds twice the days still to come
    (16-day blocks, 40 days: 16, 16, then 6 at day 37 with 2 to come, then the last 2),
    and the file holds every recorded row; under TAIL_MIN_VALUES nothing is sent early."""
    import pyarrow.parquet as pq

    from simulation import recorder
    from simulation.user_rows import UserRows

    n, fields = 3, ["served_kwh", "output_cny", "peak_kw"]
    rows = UserRows(
        np.datetime64("2025-01-06", "ns"), np.zeros(n, int), ["a"], np.zeros(n, int), 0.3, fields
    )
    energy = np.random.default_rng(3).uniform(0.0, 5.0, (40, n))
    groups = {}
    for tail_min in (1, 8 * n + 1):  # the second: even all 8 last days are too few
        monkeypatch.setattr(recorder, "TAIL_MIN_VALUES", tail_min)
        rec = Recorder(40, 24, n, interval_fields=[], user_fields=fields, spool_values=16 * n)
        rec.spool_dir = tmp_path
        rec.stream(rows)
        for d in range(40):
            rec.record(d, intervals={}, users=dict.fromkeys(fields, energy[d]))
        path = tmp_path / f"users_{tail_min}.parquet"
        rec.write_users(path)
        meta = pq.ParquetFile(path).metadata
        groups[tail_min] = [meta.row_group(i).num_rows // n for i in range(meta.num_row_groups)]
        got = pd.read_parquet(path)["served_kwh"].to_numpy()
        np.testing.assert_array_equal(got, energy.ravel())
        rec.close()
    assert groups == {1: [16, 16, 6, 2], 8 * n + 1: [16, 16, 8]}
