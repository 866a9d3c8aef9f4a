"""Which snapshot columns each feature is computed from, and which features the model is fed
(issue 36): what the feature and training steps tell the service, so that a bad column of a
snapshot can be followed to the features, models and endpoints it reached."""

from __future__ import annotations

from emitters import Data, Feature

# feature -> (the snapshot columns it is computed from, how)
FEATURE_COLUMNS = {
    "tenure_months": (["tenure_months"], "standardised"),
    "monthly_spend": (["monthly_spend"], "standardised"),
    "support_tickets": (["support_tickets"], "standardised"),
    "logins_30d": (["logins_30d"], "standardised"),
    "is_basic": (["plan"], "plan == 'basic', standardised"),
    "income_k": (["income"], "income / 1000, standardised"),
}


def features(snapshot: Data, names: list[str]) -> list[Feature]:
    """The features `names`, each naming the snapshot columns it comes from."""
    return [
        Feature(name, [snapshot.column(c, "TRANSFORMATION", FEATURE_COLUMNS[name][1]) for c in FEATURE_COLUMNS[name][0]])
        for name in names
    ]
