"""Compliance reporting: pure facts and figures (``facts``, ``compliance``), their loading and exports."""

from app.reports.compliance import Report, compliance_report, range_bounds
from app.reports.facts import BreachReason, IncidentFacts, LoggedEvent, Outcome

__all__ = ["BreachReason", "IncidentFacts", "LoggedEvent", "Outcome", "Report", "compliance_report", "range_bounds"]
