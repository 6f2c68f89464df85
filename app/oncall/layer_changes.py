"""Replacing a schedule's layers without moving the shift running now (pure).

Turns are dealt over a layer's members from its first hand-off, so a list that grows, shrinks or is
reordered would deal the running shift to someone else: a rep added at the end would silently take over
mid-shift. Instead, a replaced layer (matched by position) keeps the rep on call now in it until the next
hand-off, as PagerDuty and GoAlert do: its members are stored turned (the same cyclic order, another first
member). A rep removed while on call hands over at once to the member who followed them.
"""

from __future__ import annotations

from datetime import datetime

from app.oncall.rotation import LayerSpec, ScheduleSpec, layer_rep, shift_index
from app.oncall.wallclock import zone


def members_keeping_now(before: ScheduleSpec, after: ScheduleSpec, now: datetime) -> list[tuple[int, ...]]:
    """The members to store for each layer of ``after`` (in order) so that nobody's running shift moves."""
    old = {layer.position: layer for layer in before.layers}
    old_tz, new_tz = zone(before.time_zone), zone(after.time_zone)
    return [_turned(old.get(layer.position), old_tz, layer, new_tz, now) for layer in after.layers]


def _turned(old: LayerSpec | None, old_tz, new: LayerSpec, new_tz, now: datetime) -> tuple[int, ...]:
    current = _on_call(old, old_tz, now)
    if current is None or layer_rep(new, new_tz, now) == current:
        return new.members  # nobody on call in it now, or the same rep as given
    index = shift_index(new, new_tz, now)
    if index < 0:
        return new.members  # the new rotation has not started: taken as given
    wanted = current if current in new.members else _successor(old, old_tz, current, new, now)
    if wanted is None:
        return new.members  # nobody of the old rotation is left in it
    turn = (new.members.index(wanted) - index) % len(new.members)
    return new.members[turn:] + new.members[:turn]


def _on_call(layer: LayerSpec | None, tz, now: datetime) -> int | None:
    try:
        return layer_rep(layer, tz, now) if layer is not None else None
    except ValueError:  # a layer stored before the year rule, beyond what datetime holds: being replaced
        return None


def _successor(old: LayerSpec, old_tz, current: int, new: LayerSpec, now: datetime) -> int | None:
    """The first active member of the new layer who followed ``current`` in the old rotation."""
    count = len(old.members)
    turn = shift_index(old, old_tz, now) % count
    slot = next(s for s in ((turn + step) % count for step in range(count)) if old.members[s] == current)
    return next((rep for step in range(1, count + 1)
                 if (rep := old.members[(slot + step) % count]) in new.members and rep not in new.skipped), None)
