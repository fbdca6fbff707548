"""A seeding context for TensorFlow/Keras that leaves no global state behind.

SciKeras 0.13's ``tensorflow_random_state`` sets ``TF_DETERMINISTIC_OPS=1`` before asking
TensorFlow whether op determinism is on; TensorFlow reads that variable lazily on the
first query, answers "on", and determinism is never turned off again, so a later unseeded
fit crashes with "Random ops require a seed to be set when determinism is enabled".
This context asks first, never touches the environment, and restores everything.

Keras draws the default seed of every layer that needs one (``Dropout``, the global
``SeedGenerator`` behind the weight initialisers) from Python's process-global ``random``
module. Other threads of the process draw from it too: a Dask worker's event loop calls
``random.sample`` to estimate object sizes while a task runs, so the same seeded fit gave
different models in a fresh worker. Inside the context Keras draws from a private
``random.Random(seed)`` instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def seed_from_random_state(random_state) -> int | None:
    """Turn an estimator's ``random_state`` into an integer seed (or None).

    An int is used as it is; a ``RandomState`` instance is drawn from (so successive
    fits with the same instance differ, as for scikit-learn estimators); None means
    "do not seed".

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState

    Returns
    -------
    seed : int or None

    Examples
    --------
    >>> seed_from_random_state(3)
    3
    >>> seed_from_random_state(None) is None
    True
    """
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    return int(check_random_state(random_state).randint(_MAX_SEED))


def _tf_internals():
    # TensorFlow exposes neither a getter for the global seed nor a way to query or
    # disable op determinism publicly; these private modules are the only way to
    # restore what we changed.
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config

    return context, config


def _keras_seed_module():
    # Keras' default layer seeds come from this module's ``python_random`` (the ``random``
    # module); there is no public way to give Keras its own generator.
    from keras.src.random import seed_generator

    return seed_generator


def _keras_global_state():
    from keras.src.backend.common import global_state

    return global_state


_KERAS_SEED_KEYS = ("global_random_seed", "global_seed_generator")


@contextmanager
def tensorflow_seed(seed: int | None, deterministic_ops: bool = True) -> Iterator[None]:
    """Seed Python, NumPy, TensorFlow and Keras inside the block, restore them after.

    Parameters
    ----------
    seed : int or None
        None makes the context a no-op.
    deterministic_ops : bool, default=True
        Also enable TensorFlow op determinism inside the block (only if it was off;
        it is switched off again on exit).

    Examples
    --------
    >>> import numpy as np
    >>> with tensorflow_seed(0):
    ...     a = np.random.rand()
    >>> with tensorflow_seed(0):
    ...     b = np.random.rand()
    >>> a == b
    True
    """
    if seed is None:
        yield
        return
    import keras
    import tensorflow as tf

    context, config = _tf_internals()
    global_state = _keras_global_state()
    keras_seed_module = _keras_seed_module()
    # None if a later Keras no longer has this module attribute: then nothing is swapped.
    keras_python_random = getattr(keras_seed_module, "python_random", None)
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002 (restoring the legacy global state)
    tf_seed = context.global_seed()
    keras_state = {key: global_state.get_global_attribute(key) for key in _KERAS_SEED_KEYS}
    determinism_was_on = config.is_op_determinism_enabled()
    try:
        keras.utils.set_random_seed(seed)
        if keras_python_random is not None:
            keras_seed_module.python_random = random.Random(seed)
        if deterministic_ops and not determinism_was_on:
            config.enable_op_determinism()
        yield
    finally:
        if deterministic_ops and not determinism_was_on:
            config.disable_op_determinism()
        if keras_python_random is not None:
            keras_seed_module.python_random = keras_python_random
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
        tf.random.set_seed(tf_seed)
        for key, value in keras_state.items():
            global_state.set_global_attribute(key, value)
