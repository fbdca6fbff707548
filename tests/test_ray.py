"""Hyper-parameter search on Ray's joblib backend gives the local search's results.

Skipped unless Ray is installed (``pip install "ray[default]"``; not one of our extras).
Ray starts a local two-CPU instance whose worker processes fit the folds.
"""

import os

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'ray[default]')")

from _search_case import make_search, make_table  # noqa: E402
from joblib import Parallel, delayed, parallel_backend  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_backend():
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_search_gives_the_local_search_results(ray_backend):
    X, y = make_table()
    local = make_search().fit(X, y)
    remote = make_search()
    remote.n_jobs = 2
    with parallel_backend("ray"):
        remote.fit(X, y)
        worker_pids = set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(4)))
    assert os.getpid() not in worker_pids
    for split in range(2):
        key = f"split{split}_test_score"
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], rtol=1e-6)
    assert remote.best_params_ == local.best_params_
