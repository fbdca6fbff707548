"""Data-parallel training with tf.distribute.MirroredStrategy, on two logical CPU devices.

The test machine has no GPU; splitting the CPU into two logical devices runs the same code
path as several GPUs: the estimator builds and compiles its model inside the strategy's
scope, so every weight is a MirroredVariable with one copy per device. The logical devices
must be configured before TensorFlow starts, hence a fresh Python process.
"""

import json
import os
import subprocess
import sys

_SCRIPT = """
import json
import sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, sys.argv[1])  # the tests folder
from _settings import UNITS, text_image_numbers
from skmultimodal.estimators import MultiInputKerasClassifier

X, y = text_image_numbers(64, n_words=20, text_length=5, n_numbers=3, lowest_id=1)
del X["image"]  # a CNN branch would mirror like the others, only slower
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
clf = MultiInputKerasClassifier(
    **UNITS, epochs=3,
    batch_size=16 * strategy.num_replicas_in_sync, random_state=0,
)
with strategy.scope():
    clf.fit(X, y)
proba = clf.predict_proba(X)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "variable_types": sorted({type(w.value).__name__ for w in clf.model_.weights}),
    "devices": sorted({v.device[-5:] for w in clf.model_.weights for v in w.value.values}),
    "loss": clf.history_["loss"],
    "proba_shape": list(proba.shape),
    "proba_sums": proba.sum(axis=1).tolist(),
}))
"""


def test_fit_inside_a_mirrored_strategy_scope_mirrors_every_weight():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["variable_types"] == ["MirroredVariable"]
    assert result["devices"] == ["CPU:0", "CPU:1"]
    assert len(result["loss"]) == 3 and all(0 < loss < 10 for loss in result["loss"])
    assert result["proba_shape"] == [64, 2]
    assert all(abs(total - 1) < 1e-5 for total in result["proba_sums"])
