"""Glue between the RiskModel port and the pure scorecard evaluation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from plugins.sdk import Capability, ConnectorInfo, InvalidRequest, RiskModel, SupportLevel
from schemas.canonical.risk import RiskDecision, RiskInput

from .mapping import FeatureError, evaluate
from .models import ScorecardConfig

__all__ = ["Scorecard"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Scorecard(RiskModel):
    """The built-in rule-based scorecard.

    No HTTP, no simulator and no credentials: the card in the config is the whole model. The clock
    is injectable so tests (and replays of a past decision) can pin ``scored_at``.

    Args:
        config: the scorecard definition; ``ScorecardConfig()`` is the default starter card.
        instance: the instance name.
        clock: returns the aware UTC time stamped on decisions.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="lendhub-scorecard",
        name="Rule-based scorecard (built-in)",
        capability=Capability.RISK_MODEL,
        vendor="LendHub",
        vendor_api_version="scorecard-1",
        hosts=(),
        support_level=SupportLevel.OFFICIAL,
        docs_url="connectors/scorecard/README.md",
        tags=("built-in", "no-vendor"),
    )
    Config: ClassVar[type[ScorecardConfig]] = ScorecardConfig
    simulator: ClassVar[str | None] = None
    config: ScorecardConfig

    def __init__(
        self,
        config: ScorecardConfig,
        *,
        instance: str = "default",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(config, instance=instance)
        self.clock = clock or _utc_now

    async def score(self, risk_input: RiskInput) -> RiskDecision:
        """Score one application with the configured card.

        Raises:
            InvalidRequest: a feature value the card cannot score (text for a numeric feature).
        """
        try:
            return evaluate(self.config, risk_input, scored_at=self.clock())
        except FeatureError as exc:
            raise InvalidRequest(
                f"{self.info.slug}/{self.instance} score: {exc}", connector=self.info.slug
            ) from None
