"""Unit checks of the ledger, the platform and the run finder."""

from __future__ import annotations

import numpy as np
import pytest

from markets._arrays import runs
from simulation.ledger import Ledger
from simulation.platform import InformationPlatform

T0 = np.datetime64("2025-01-06T00:00", "ns")
H = np.timedelta64(3600 * 10**9, "ns")


def test_ledger_double_entry():
    led = Ledger(["user:00000", "user:00001"])
    grid = led.account("grid")
    led.post(T0, [0, 1], grid, [10.0, 5.5], "tariff")
    led.post(T0, grid, led.account("external"), 12.0, "energy_purchase")
    assert led.balance("grid") == pytest.approx(3.5)
    assert led.balance("external") == pytest.approx(12.0)
    np.testing.assert_allclose(led.user_balances(2), [-10.0, -5.5])
    assert led.residual_cny == pytest.approx(0.0, abs=1e-12)
    frame = led.to_frame()
    assert len(frame) == 3
    assert list(frame.payer.astype(str)) == ["user:00000", "user:00001", "grid"]
    with pytest.raises(ValueError, match="tariff"):
        led.post(T0, 0, grid, np.nan, "tariff")


def test_ledger_broadcasts_scalars_drops_zeros_and_rejects_ragged_batches():
    """A scalar amount or account is repeated over the batch; zero rows are dropped (a
    zero scalar posts nothing); times per row or one time; 2-D batches are flattened;
    lengths other than 1 and the batch length are an error."""
    led = Ledger([f"user:{i:05d}" for i in range(3)])
    grid = led.account("grid")
    led.post(T0, np.arange(3), grid, 2.0, "fee")
    led.post(T0 + np.arange(3) * H, grid, np.arange(3), [1.0, 0.0, 0.5], "refund")
    led.post(T0, 0, grid, 0.0, "nothing")
    led.post(T0, np.array([[0, 1]]), grid, np.array([[0.25, 0.75]]), "grid_2d")
    np.testing.assert_array_equal(led.user_balances(3), [-1.25, -2.75, -1.5])
    assert led.balance("grid") == 5.5
    frame = led.to_frame()
    assert len(frame) == 7 and "nothing" not in set(frame.purpose.astype(str))
    assert frame.time.dtype == np.dtype("datetime64[ns]")
    with pytest.raises(ValueError, match="lengths"):
        led.post(T0, np.arange(3), grid, [1.0, 2.0], "ragged")


def test_ledger_total_of_a_purpose_is_its_rows_sum_in_the_tables_order():
    """total_cny adds a purpose's amounts in to_frame's order (by time, stable): later
    postings of an earlier time come first. Hand sum 0.1 + 0.2 + 0.3 + 1e16 − 1e16 in
    time order; the table's own sum over those rows is the same float; a purpose
    never posted totals 0."""
    led = Ledger(["user:00000", "user:00001"])
    grid = led.account("grid")
    led.post(T0 + 2 * H, 0, grid, [1e16], "fee")
    led.post(T0 + 3 * H, 1, grid, [-1e16], "fee")
    led.post(T0, [0, 1], grid, [0.1, 0.2], "fee")
    led.post(T0 + H, 0, grid, 5.0, "tariff")
    led.post(T0 + H, 1, grid, 0.3, "fee")
    frame = led.to_frame()
    rows = frame.loc[frame.purpose == "fee", "amount_cny"]
    assert list(rows) == [0.1, 0.2, 0.3, 1e16, -1e16]
    assert led.total_cny("fee") == rows.sum() == np.array([0.1, 0.2, 0.3, 1e16, -1e16]).sum()
    assert led.total_cny("tariff") == 5.0 and led.total_cny("refund") == 0.0


def test_ledger_purposes_are_the_rows_categorical_in_time_order():
    """The purpose column is ``pd.Categorical`` of the rows' strings: its categories
    are the posted purposes sorted by name (not in posting order), and each row keeps
    its own purpose after the stable sort by time (postings of one purpose interleaved
    with another's, a later posting at an earlier time first)."""
    import pandas as pd

    led = Ledger(["user:00000", "user:00001"])
    grid = led.account("grid")
    led.post(T0 + H, [0, 1], grid, [1.0, 2.0], "tariff")
    led.post(T0, 0, grid, 3.0, "fee")
    led.post(T0 + H, grid, 1, 4.0, "adjustment")
    led.post(T0 + 2 * H, 1, grid, [5.0], "fee")
    frame = led.to_frame()
    assert list(frame.amount_cny) == [3.0, 1.0, 2.0, 4.0, 5.0]
    assert list(frame.purpose.astype(str)) == ["fee", "tariff", "tariff", "adjustment", "fee"]
    expected = pd.Categorical(["fee", "tariff", "tariff", "adjustment", "fee"])
    assert list(frame.purpose.cat.categories) == ["adjustment", "fee", "tariff"]
    assert frame.purpose.dtype == expected.dtype
    np.testing.assert_array_equal(frame.purpose.cat.codes, expected.codes)


def test_platform_lead_time_and_switch():
    on = InformationPlatform(enabled=True)
    eff = T0 + 10 * H
    on.publish(eff - 7 * 24 * H, eff, "grid", [3], "plan")
    on.publish(eff - 24 * H, eff, "grid", [3], "reminder")
    on.publish(eff - H / 4, eff, "grid", [3, 4], "notice")
    np.testing.assert_allclose(on.lead_time_h([3, 4, 5], [eff, eff, eff]), [168.0, 0.25, 0.0])
    off = InformationPlatform(enabled=False)
    assert off.publish(eff - 24 * H, eff, "grid", [3], "plan") == 0
    assert off.publish(eff - H / 4, eff, "grid", [3], "notice") == 1
    np.testing.assert_allclose(off.lead_time_h([3], [eff]), [0.25])
    assert len(on.to_frame()) == 4


def test_runs_and_cells():
    mask = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)
    r = runs(mask)
    assert r.user.tolist() == [0, 0, 1]
    assert r.start.tolist() == [1, 4, 0]
    assert r.stop.tolist() == [3, 5, 5]
    rows, cols, k = r.cells()
    out = np.zeros(mask.shape)
    out[rows, cols] = np.array([10.0, 20.0, 30.0])[k]
    np.testing.assert_array_equal(out[0], [0, 10, 10, 0, 20])
    np.testing.assert_array_equal(out[1], [30] * 5)


def _message_log() -> InformationPlatform:
    """Batches of every column form: 0-d and per-message values, NaT, broadcast, non-str."""
    log = InformationPlatform(enabled=True)
    eff = T0 + 10 * H
    log.publish(eff - 24 * H, eff, "grid", [5, 2, 7], "plan", quantity=[1.0, 2.0, 3.0])
    log.publish(eff, eff, "sales_agent", -1, "price", payload='{"f2": 0.1}', notice=False)
    log.publish([eff - H, eff - 2 * H], eff + H, "grid", [1, 0], "notice", until=[eff + 2 * H, eff])
    log.publish(eff, eff, "grid", [4, 3], "report", payload=np.array(["a", 7], dtype=object))
    return log


def test_platform_tables_equal_the_frames_converted():
    # rows=3: the 8 messages in blocks of 3, 3 and 2
    import pyarrow as pa

    log = _message_log()
    tables, frames = list(log.tables(rows=3)), list(log.frames(rows=3))
    assert [t.num_rows for t in tables] == [3, 3, 2]
    for table, frame in zip(tables, frames, strict=True):
        expected = pa.Table.from_pandas(frame, preserve_index=False)
        assert table.equals(expected, check_metadata=True)
    whole = pa.concat_tables(tables).to_pandas()
    assert whole["payload"].tolist().count("7") == 1  # a non-str payload, as astype(str)
    assert whole["until"].isna().sum() == 6
    empty = next(InformationPlatform(enabled=True).tables())
    assert empty.equals(pa.Table.from_pandas(InformationPlatform._empty(), preserve_index=False))


def test_a_payload_function_is_called_once_when_the_log_is_read():
    calls = []

    def lines():
        calls.append(1)
        return np.array(['{"a": 1}', '{"a": 2}'], dtype=object)

    lazy, eager = InformationPlatform(enabled=True), InformationPlatform(enabled=True)
    for log, payload in ((lazy, lines), (eager, lines())):
        log.publish(T0, T0, "grid", [1, 0], "report", payload=payload)
    calls.clear()
    assert len(lazy) == 2 and calls == []  # publishing formats nothing
    frame = lazy.to_frame()
    assert calls == [1] and frame["payload"].tolist() == ['{"a": 2}', '{"a": 1}']
    assert next(lazy.tables()).equals(next(eager.tables())) and calls == [1]
