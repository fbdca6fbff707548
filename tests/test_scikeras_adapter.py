"""The SciKeras adapter: repairs live in our classes, routed parameters are parameters."""

import inspect
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import get_tags

from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor

ESTIMATORS = [MultiInputKerasClassifier, MultiInputKerasRegressor]


def test_importing_and_fitting_changes_no_scikeras_class():
    code = textwrap.dedent(
        """
        import numpy as np
        from scikeras import wrappers

        classes = (wrappers.BaseWrapper, wrappers.KerasClassifier, wrappers.KerasRegressor)
        before = [dict(vars(cls)) for cls in classes]
        mros = [cls.__mro__ for cls in classes]
        from skmultimodal import MultiInputKerasClassifier
        X = np.random.RandomState(0).rand(20, 3)
        MultiInputKerasClassifier(epochs=1, tabular_units=2).fit(X, np.arange(20) % 2)
        after = [dict(vars(cls)) for cls in classes]
        for cls, old, new in zip(classes, before, after):
            assert old.keys() == new.keys(), (cls, set(old) ^ set(new))
            changed = [name for name in old if old[name] is not new[name]]
            assert not changed, (cls, changed)
        assert mros == [cls.__mro__ for cls in classes]
        print("unchanged")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("unchanged")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_tags_come_from_our_own_classes(Estimator):
    owner = next(cls for cls in Estimator.__mro__ if "__sklearn_tags__" in vars(cls))
    assert owner.__module__.startswith("skmultimodal.")
    tags = get_tags(Estimator())
    assert tags.target_tags.multi_output
    assert not tags.input_tags.sparse and not tags.non_deterministic
    assert is_classifier(Estimator()) == (Estimator is MultiInputKerasClassifier)
    assert is_regressor(Estimator()) == (Estimator is MultiInputKerasRegressor)
    # The legacy SciKeras tags are translated, not lost: SciKeras marks its own
    # classifier's and regressor's scores "poor" for scikit-learn's checks.
    estimator_tags = tags.classifier_tags or tags.regressor_tags
    assert estimator_tags.poor_score is bool(Estimator._tags.get("poor_score", False))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_signature_lists_every_parameter_once(Estimator):
    parameters = inspect.signature(Estimator).parameters
    names = [name for name in parameters if name != "kwargs"]
    assert len(names) == len(set(names))
    assert set(names) == set(Estimator().get_params())
    own = "class_weight" if Estimator is MultiInputKerasClassifier else "target_transform"
    assert own in names and "branch_norm" in names
    assert parameters["branch_norm"].default == Estimator().branch_norm


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_routed_parameters_are_parameters_but_not_attributes(Estimator):
    estimator = Estimator(epochs=3, optimizer__learning_rate=0.05, fit__shuffle=False)
    assert "optimizer__learning_rate" not in vars(estimator)
    assert estimator.optimizer__learning_rate == 0.05
    params = estimator.get_params()
    assert params["optimizer__learning_rate"] == 0.05 and params["fit__shuffle"] is False
    # The repr shows the non-default parameters only (sklearn sorts them and wraps lines).
    shown = "".join(repr(estimator).split())
    assert shown == (
        f"{Estimator.__name__}(epochs=3,fit__shuffle=False,optimizer__learning_rate=0.05)"
    )

    copy = clone(estimator)
    copy.set_params(optimizer__learning_rate=0.1, optimizer__beta_1=0.8, epochs=4)
    assert estimator.optimizer__learning_rate == 0.05 and estimator.epochs == 3
    assert "optimizer__beta_1" not in estimator.get_params()
    assert copy.get_params()["optimizer__beta_1"] == 0.8 and copy.epochs == 4

    restored = pickle.loads(pickle.dumps(estimator))
    assert restored.get_params() == estimator.get_params()
    with pytest.raises(AttributeError, match="no attribute 'optimizer__momentum'"):
        estimator.optimizer__momentum  # noqa: B018


def test_routed_learning_rate_reaches_the_optimizer():
    X = np.random.RandomState(0).rand(30, 3)
    clf = MultiInputKerasClassifier(
        epochs=1, tabular_units=2, random_state=0, optimizer__learning_rate=0.0123
    ).fit(X, np.arange(30) % 2)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.0123)


def test_state_saved_with_routed_attributes_still_loads():
    # skmultimodal 0.1.0 kept keyword arguments as attributes; such a state still loads.
    clf = MultiInputKerasClassifier(epochs=2, optimizer__learning_rate=0.05)
    state = clf.__getstate__()
    old_state = {**state, **state.pop("_extra_params")}
    old_state.pop("_extra_params")
    restored = MultiInputKerasClassifier.__new__(MultiInputKerasClassifier)
    restored.__setstate__(old_state)
    assert restored.get_params() == clf.get_params()
    assert "optimizer__learning_rate" not in vars(restored)
