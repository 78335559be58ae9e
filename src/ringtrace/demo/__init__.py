"""The synthetic demo scenario: rings with ground truth, for the demo, tests and benchmarks."""

from ringtrace.demo.scenario import INTAKE_AGENCY, PUBLIC_ROUTES, Scenario, generate

__all__ = ["INTAKE_AGENCY", "PUBLIC_ROUTES", "Scenario", "generate"]
