"""Built-in rule-based scorecard: a RiskModel that needs no vendor.

The scorecard definition (base score, binned characteristics, bands, knockouts) is the connector's
configuration, so a lender can run a transparent, explainable score before — or instead of — its
own model service. Scoring is pure and deterministic: the same card and features always give the
same decision.
"""
