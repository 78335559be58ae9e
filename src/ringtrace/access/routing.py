"""Which agency receives a report from the public page.

The victim's country picks the agency (``RINGTRACE_PUBLIC_ROUTES``, a map of ISO 3166-1
country codes to agency codes); a country without a route, or whose agency has nobody able
to work its triage queue, goes to the intake agency (``RINGTRACE_PUBLIC_INTAKE_AGENCY``,
the home agency by default). A report always lands somewhere: when even the intake agency
has nobody, it is still stored there (nothing acknowledged is ever lost) and
:func:`unstaffed` names the problem for the operator.

Pure functions: the caller reads which agencies are staffed.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass


@dataclass(frozen=True)
class Routing:
    routes: Mapping[str, str]  # country -> agency code
    intake: str  # the fallback intake agency

    def agency_for(self, country: str | None, staffed: Set[str]) -> str:
        """The agency that receives a report from ``country`` (None: not given)."""
        wanted = self.routes.get((country or "").upper())
        if wanted and wanted in staffed:
            return wanted
        return self.intake

    def agencies(self) -> set[str]:
        """Every agency a public report can be routed to."""
        return {*self.routes.values(), self.intake}


def unstaffed(routing: Routing, staffed: Set[str]) -> list[str]:
    """Problems an operator must fix: routed agencies nobody can work for (their reports go
    to the intake agency) and, worst, an intake agency nobody works for."""
    problems = [
        f"public reports from {country} go to {routing.intake}: agency {agency} has no active user"
        for country, agency in sorted(routing.routes.items())
        if agency not in staffed
    ]
    if routing.intake not in staffed:
        problems.append(
            f"the public intake agency {routing.intake} has no active user: "
            "public reports routed there reach nobody"
        )
    return problems
