"""The value triangle and avoided costs (issue 13 §4): escalation scenarios per municipality with a reference
cost and its source, and the scenarios a request prevents with their likelihood.

(Tables only so far; the verbs follow.)
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel


class AvoidedCostScenario(SQLModel, table=True):
    """An escalation a grant may prevent (an eviction, an energy disconnection …) and what it costs society."""

    __table_args__ = (CheckConstraint("reference_cost_cents > 0", name="scenario_cost_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name_nl: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    reference_cost_cents: int
    #: where the figure comes from (a report, a link)
    source: str = Field(default="", max_length=300)
    #: an example figure (the demo's), to be replaced by the municipality's own
    is_example: bool = False
    position: int = 0
    archived_at: datetime | None = None


class RequestScenario(SQLModel, table=True):
    """A scenario a request prevents, with the worker's estimate of how likely it was."""

    __table_args__ = (UniqueConstraint("request_id", "scenario_id"),
                      CheckConstraint("likelihood_percent BETWEEN 1 AND 100", name="scenario_likelihood_percent"))
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    scenario_id: int = Field(foreign_key="avoidedcostscenario.id")
    likelihood_percent: int
