"""The synthetic demo scenario: rings with ground truth, for the demo, tests and benchmarks."""

from ringtrace.demo.scenario import Scenario, generate

__all__ = ["Scenario", "generate"]
