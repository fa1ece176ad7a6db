"""What a new process imports: ``import lazysignal`` and a first compute stay light.

A dask worker imports lazysignal when it unpickles its first task; a script imports it
before anything else. Neither should pay for matplotlib, the X-ray database or
dask.distributed it does not use (measured: 3 s per LocalCluster worker before). Each check
runs in a fresh interpreter and looks at ``sys.modules``; nothing here is timed.
"""

import json
import subprocess
import sys

HEAVY = ["matplotlib", "xraydb", "sqlalchemy", "sklearn", "distributed", "lazysignal.signals",
         "lazysignal.plot"]


def _modules_after(code: str) -> dict:
    probe = code + f"\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _probe_script(tmp_path, code: str):
    """Run ``code`` as a script in a fresh interpreter (a cluster's workers start there): the
    JSON it prints last."""
    script = tmp_path / "probe.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_and_task_modules_pull_nothing_heavy():
    """What a worker needs to run our tasks imports no plotting, X-ray data or signal layer."""
    loaded = _modules_after("import lazysignal, lazysignal.expressions, lazysignal.io.backends.h5chunks, "
                            "lazysignal.io.backends.zarr_chunks, lazysignal.io.backends.chunked_file")
    assert loaded == []


def test_first_compute_does_not_import_distributed():
    """Threads are chosen without dask's search for a distributed client (which imports it)."""
    loaded = _modules_after(
        "import numpy as np, lazysignal as ls\n"
        "s = ls.signals.Signal1D(np.ones((4, 5, 6))).as_lazy()\n"
        "assert float(s.sum(axis='navigation').compute().data.sum()) == 120.0")
    assert "distributed" not in loaded
    assert "lazysignal.signals" in loaded  # the public API was imported on first use


def test_public_api_on_first_use_registers_every_signal_class():
    """The first ``ls.<name>`` imports the whole API, so typed classes exist before any is chosen."""
    code = ("import lazysignal as ls\n"
            "from lazysignal.signal_registry import signal_class_for\n"
            "ls.load\n"
            "print(signal_class_for(1, 'EDS_TEM').__name__, type(ls.preferences).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EDSTEMSpectrum", "Preferences"]


def test_cluster_workers_sum_a_zspy_file_without_dask_array(tmp_path):
    """A navigation sum of a zspy file on a LocalCluster: the workers unpickle and run the fused
    read-and-sum tasks and the tree of partial sums without importing dask.array (0.3-0.5 s
    each before their first task); the blocks are joined in the client. Same result as the
    threaded sum. Runs in a fresh interpreter (the workers start there, with nothing imported)."""
    code = f"""
import json, sys
import numpy as np
from distributed import Client, LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    import lazysignal as ls
    values = np.random.default_rng(0).random((8, 6, 40))
    ls.signals.Signal1D(values).save({str(tmp_path / 'c.zspy')!r}, chunks=(2, 6, 10))
    s = ls.load({str(tmp_path / 'c.zspy')!r}, lazy=True)
    got = s.sum(axis="navigation").compute().data
    plain = s.data.sum(axis=(0, 1)).compute(scheduler="threads")
    loaded = client.run(lambda: sorted(m for m in ("dask.array", "scipy.sparse", "lazysignal.expressions")
                                       if m in sys.modules))
    print(json.dumps([got.tobytes() == plain.tobytes(), sorted(loaded.values())]))
    client.close()
    cluster.close()
"""
    same, loaded = _probe_script(tmp_path, code)
    assert same
    assert loaded == [["lazysignal.expressions"], ["lazysignal.expressions"]]


def test_a_lazy_load_on_a_cluster_warms_its_workers(tmp_path):
    """``ls.load(lazy=True)`` with a Client asks every worker to import the format's task
    modules (``FormatSpec.task_modules``) in the background: once those tasks are done, and
    before anything is computed, the workers hold the zspy read path and still no dask.array.
    Without a client nothing is sent. Fresh interpreter, real LocalCluster; nothing timed."""
    code = f"""
import json, sys
import numpy as np
from distributed import Client, LocalCluster, wait
if __name__ == "__main__":
    import lazysignal as ls
    from lazysignal import lazy
    path = {str(tmp_path / 'w.zspy')!r}
    ls.signals.Signal1D(np.ones((4, 3, 5))).save(path, chunks=(2, 3, 5))
    ls.load(path, lazy=True)
    alone = len(lazy._warming)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    before = client.run(lambda: "lazysignal.io.backends.zarr_chunks" in sys.modules)
    s = ls.load(path, lazy=True)
    wait(list(lazy._warming))
    after = client.run(lambda: sorted(m for m in ("dask.array", "lazysignal.io.backends.zarr_chunks",
                                                  "lazysignal.expressions") if m in sys.modules))
    print(json.dumps([alone, sorted(before.values()), sorted(after.values())]))
    client.close()
    cluster.close()
"""
    alone, before, after = _probe_script(tmp_path, code)
    assert alone == 0
    assert before == [False, False]
    warmed = ["lazysignal.expressions", "lazysignal.io.backends.zarr_chunks"]
    assert after == [warmed, warmed]
