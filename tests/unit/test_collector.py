"""Issue 12: what start-up built is frozen out of the collector's full collections (``hotline serve`` and ``worker``)."""

from __future__ import annotations

import gc

from app.collector import freeze_for_collector


def test_what_exists_at_the_freeze_is_no_longer_walked_by_a_collection_and_what_comes_after_still_is():
    before = len(gc.get_objects())
    try:
        freeze_for_collector()
        assert gc.get_freeze_count() >= before // 2  # the collection first frees what is garbage
        later = [[i] for i in range(1000)]  # created after start-up: still collected as usual
        tracked = gc.get_objects()
        assert len(tracked) < before // 10
        assert any(obj is later[0] for obj in tracked)
    finally:
        gc.unfreeze()
    assert len(gc.get_objects()) >= before // 2
