"""Emitters SDK: OpenLineage events for data, feature, training, promotion and deploy steps.

    from emitters import Data, Endpoint, Lineage, ModelVersion

    with Lineage() as lineage:
        with lineage.training_step(ModelVersion("churn", "2.3.1"), inputs=[...], seed=7) as run:
            run.log_metrics(auc=0.84)
        with lineage.deploy_step("churn@2.3.1", "churn-prod", environment="prod"):
            ...

Built on openlineage-python: its client, event and facet classes and transports.
"""

from emitters.client import EmitError, Emitter, build_client, http_transport
from emitters.columns import Column, Feature
from emitters.config import EmitterSettings
from emitters.datasets import Data, DatasetSpec, Endpoint, FeatureView, ModelVersion
from emitters.facets import (
    AliasRunFacet,
    ApprovalRunFacet,
    ArtifactDatasetFacet,
    EndpointDatasetFacet,
    FeatureViewDatasetFacet,
    ModelVersionDatasetFacet,
    TrainingRunFacet,
)
from emitters.lineage import PRODUCER, Lineage, parent_from_env
from emitters.steps import ParentRef, PromotionRun, Step, StepRun, TrainingRun, current_step

__all__ = [
    "PRODUCER",
    "AliasRunFacet",
    "ApprovalRunFacet",
    "ArtifactDatasetFacet",
    "Column",
    "Data",
    "DatasetSpec",
    "EmitError",
    "Emitter",
    "EmitterSettings",
    "Endpoint",
    "EndpointDatasetFacet",
    "Feature",
    "FeatureView",
    "FeatureViewDatasetFacet",
    "Lineage",
    "ModelVersion",
    "ModelVersionDatasetFacet",
    "ParentRef",
    "PromotionRun",
    "Step",
    "StepRun",
    "TrainingRun",
    "TrainingRunFacet",
    "build_client",
    "current_step",
    "http_transport",
    "parent_from_env",
]
