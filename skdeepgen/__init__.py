"""skdeepgen: deep generative clustering estimators for scikit-learn.

Every estimator is a scikit-learn estimator first and a PyTorch model second:
it sits in Pipelines and GridSearchCV next to KMeans, trains on a GPU when one
is there and is used on a CPU without one.
"""

from ._training import TrainingDivergedError
from .aim import AIMEncoder
from .amm import AMMClustering, SAMMClassifier
from .autoencoder import Autoencoder
from .dec import DECClustering, IDECClustering
from .gamn import GAMNGenerator
from .jgmmn import JGMMNClustering
from .mmgan import MMGANClustering
from .vae import VariationalAutoencoder

__version__ = "0.1.0.dev0"

__all__ = ["AIMEncoder", "AMMClustering", "Autoencoder", "DECClustering", "GAMNGenerator", "IDECClustering",
           "JGMMNClustering", "MMGANClustering", "SAMMClassifier", "TrainingDivergedError", "VariationalAutoencoder",
           "__version__"]
