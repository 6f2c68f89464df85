"""What one on-call YAML import changed, counted the way an operator reads it (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportSummary:
    """What one import changed: an item already stored counts as updated only when a stored field differs."""

    reps_created: int = 0
    reps_updated: int = 0
    reps_unchanged: int = 0
    schedules_created: int = 0
    schedules_updated: int = 0
    schedules_unchanged: int = 0
    overrides_added: int = 0
    overrides_unchanged: int = 0
    overrides_expired: int = 0
    policies_created: int = 0
    policies_updated: int = 0
    policies_unchanged: int = 0
    # the built-in default as the export shows it while none is stored: left built in (the first incident stores it)
    policies_built_in: int = 0
    warnings: list[str] = field(default_factory=list)  # e.g. overlapping overrides: imported, but worth a look

    def count(self, kind: str, before: dict | None, after: dict) -> None:
        """Count one rep, schedule or policy (``kind``: reps, schedules, policies) by what is stored before and
        after the import wrote it (None before: it was created). The one rule for created, updated, unchanged."""
        outcome = "created" if before is None else "updated" if before != after else "unchanged"
        name = f"{kind}_{outcome}"
        setattr(self, name, getattr(self, name) + 1)

    @property
    def policies_stored(self) -> int:
        """Policies of the file that are now stored (created, updated or as they were)."""
        return self.policies_created + self.policies_updated + self.policies_unchanged

    def __str__(self) -> str:
        built_in = f", {self.policies_built_in} built-in default, not stored" if self.policies_built_in else ""
        return (
            f"reps: {self.reps_created} created, {self.reps_updated} updated, {self.reps_unchanged} unchanged; "
            f"schedules: {self.schedules_created} created, {self.schedules_updated} updated, "
            f"{self.schedules_unchanged} unchanged; "
            f"overrides: {self.overrides_added} added, {self.overrides_unchanged} already there, "
            f"{self.overrides_expired} skipped as over; "
            f"escalation policies: {self.policies_created} created, {self.policies_updated} updated, "
            f"{self.policies_unchanged} unchanged{built_in}"
        )
