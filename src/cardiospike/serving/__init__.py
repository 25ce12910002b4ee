"""The REST API: a FastAPI app that scores RR recordings with a model artifact loaded once at start-up.

Serving imports the detector and the readers only: never :mod:`cardiospike.training`, Hydra, Optuna or torch.
"""

from cardiospike.serving.app import create_app
from cardiospike.serving.settings import Settings

__all__ = ["Settings", "create_app"]
