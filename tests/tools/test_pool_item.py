"""`Pool.item`: one source item by id, over the real General-Bench subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.pool import Pool, PoolError


def test_an_item_is_found_by_id_and_an_unknown_id_is_a_clear_error(general_bench: Path) -> None:
    pool = Pool.load([general_bench], include_generators=False)
    dataset = pool.datasets[0].dataset_id
    items = pool.items(dataset)
    last = items[-1]
    assert pool.item(dataset, last.id) == last
    assert pool.item(dataset, items[0].id) is items[0]  # the pool's own items, not copies
    with pytest.raises(PoolError, match=f"dataset {dataset} has no usable item 'no-such-id'"):
        pool.item(dataset, "no-such-id")
