"""Hyper-parameter search on a real Dask cluster gives the local search's results.

The cluster runs two worker processes on the loopback interface; each fold is fitted in a
worker process, so this checks that a whole pipeline (tokenizer, encoders, Keras model)
pickles to another process and that ``random_state`` makes a fit reproducible there,
although the worker's event loop draws from Python's global ``random`` while the fit runs.
"""

import os
import re

import numpy as np
import pytest

distributed = pytest.importorskip(
    "dask.distributed",
    reason="dask.distributed is not installed (pip install 'skmultimodal[dask]')",
)

from _search_case import make_search, make_table  # noqa: E402
from joblib import parallel_backend  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dask_client():
    """A two-process cluster on the loopback interface, closed whatever the test does."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def searches(dask_client):
    """The same search fitted locally (n_jobs=1) and on the cluster, plus the cluster's tasks."""
    X, y = make_table()
    local = make_search().fit(X, y)
    remote = make_search()
    remote.n_jobs = -1
    with distributed.get_task_stream(dask_client) as tasks, parallel_backend("dask"):
        remote.fit(X, y)
    return local, remote, tasks.data


def test_grid_search_folds_are_fitted_by_the_dask_worker_processes(dask_client, searches):
    local, remote, tasks = searches
    # joblib names each task "batch_of_<function>_<number of calls>_calls-<id>".
    fits = [re.match(r"batch_of__fit_and_score_(\d+)_calls", task["key"]) for task in tasks]
    assert sum(int(match.group(1)) for match in fits if match) == 4  # 2 candidates x 2 folds
    assert {task["worker"] for task in tasks} <= set(dask_client.scheduler_info()["workers"])
    worker_pids = set(dask_client.run(os.getpid).values())
    assert os.getpid() not in worker_pids and len(worker_pids) == 2
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    assert np.isfinite(remote.cv_results_["mean_test_score"]).all()


def test_dask_search_gives_the_local_search_results(searches):
    local, remote, _ = searches
    for split in range(2):
        key = f"split{split}_test_score"
        # Each log-loss comes from a separately seeded fit in a worker process.
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], rtol=1e-6)
    assert remote.best_params_ == local.best_params_
    X, _ = make_table()
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), atol=1e-6)
