"""The linear classifier a CAV is the normal of: scikit-learn's
``SGDClassifier`` with the settings of Kim et al.'s reference code (hinge
loss, alpha 0.01, at most 1,000 epochs, tol 1e-3), seeded.

It lives here, not in ``dashapp.analysis`` (torch, numpy and scipy only):
``analysis.tcav.cav.train_cav`` takes it as its ``LinearFit``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

ALPHA = 0.01
MAX_ITER = 1000
TOL = 1e-3


def sgd_fit(features: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """(weights (D,), intercept): ``features . weights + intercept > 0`` predicts label 1 (the concept)."""
    model = SGDClassifier(loss="hinge", alpha=ALPHA, max_iter=MAX_ITER, tol=TOL, random_state=seed)
    with warnings.catch_warnings():
        # Few examples in many dimensions separate early; a late convergence warning says nothing to the user.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels)
    # scikit-learn orders classes_ ascending: coef_ points towards classes_[1] == 1.
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])
