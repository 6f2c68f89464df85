"""The result of ``hotline check``: problems (errors and warnings) with where and how to fix them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.settings import Settings


class Severity(StrEnum):
    """An error stops serve/worker; a warning is printed and can wait."""

    ERROR = "error"
    WARNING = "warning"


class Role(StrEnum):
    """Who runs the checks: the operator, the web app or the worker."""

    CHECK = "check"
    SERVE = "serve"
    WORKER = "worker"


@dataclass(frozen=True)
class Problem:
    """One problem: where (a variable or a YAML path), what is wrong and how to fix it."""

    severity: Severity
    where: str
    message: str
    fix: str = ""

    def lines(self) -> list[str]:
        """The problem as printed: a headline and the fix below it."""
        head = f"{self.severity.upper():7} {self.where}: {self.message}"
        return [head] + ([f"        fix: {self.fix}"] if self.fix else [])


@dataclass
class CheckReport:
    """Problems found and what was checked and found fine."""

    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    settings: Settings | None = None
    # the server the check is waiting for now, named ("Redis at redis://host:6379/0"): what ``hotline check`` says
    # hung when its time limit ends (``check_time_limit``)
    asking: str = ""

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop serve and worker."""
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that can wait."""
        return [p for p in self.problems if p.severity == Severity.WARNING]

    def error(self, where: str, message: str, fix: str = "") -> None:
        """Record an error."""
        self.problems.append(Problem(Severity.ERROR, where, message, fix))

    def warn(self, where: str, message: str, fix: str = "") -> None:
        """Record a warning."""
        self.problems.append(Problem(Severity.WARNING, where, message, fix))

    def so_far(self) -> CheckReport:
        """A copy of what was found so far (the checks may still add to this one)."""
        return CheckReport(problems=list(self.problems), passed=list(self.passed), settings=self.settings,
                           asking=self.asking)

    def text(self, show_passed: bool = True) -> str:
        """The report as the operator reads it."""
        lines = [f"ok      {line}" for line in self.passed] if show_passed else []
        for problem in self.problems:
            lines += problem.lines()
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)
