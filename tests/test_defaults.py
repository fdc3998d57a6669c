"""Every registered estimator passes scikit-learn's checks at its default parameters: the defaults a
user gets on the first numeric table they try (not only the small settings the family tests use)."""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import registry

_LAST_BIT = "float32 BLAS results differ in the last bit when rows are reordered or re-batched"
_RANDOM_DRAWS = "importance-sampling draws depend on the batch a row is in"
_UNLABELLED = "-1 marks an unlabelled row (scikit-learn's semi-supervised convention)"
_ORDER_CHECKS = ("check_methods_sample_order_invariance", "check_methods_subset_invariance")


def _expected_failures(estimator):
    """The only tolerated failures, each with its reason."""
    if type(estimator).__name__ == "AutoencoderClassifier":
        return {"check_classifiers_classes": _UNLABELLED, **dict.fromkeys(_ORDER_CHECKS, _LAST_BIT)}
    reason = _RANDOM_DRAWS if type(estimator).__name__ == "VariationalAutoencoder" else _LAST_BIT
    return dict.fromkeys(_ORDER_CHECKS, reason)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    DEFAULTS = [cls() for cls in registry.names().values()]


@pytest.mark.slow
@parametrize_with_checks(DEFAULTS, expected_failed_checks=_expected_failures)
def test_defaults_pass_sklearn_checks(estimator, check):
    check(estimator)
