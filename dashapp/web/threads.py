"""How many threads one operation of a gunicorn worker's numeric libraries uses.

torch (its OpenMP team) and numpy (OpenBLAS) each start one thread per core
and split every large operation among them. A gunicorn worker already runs
many requests at once on its own threads, and several workers share the
cores, so these teams only contend: OpenBLAS's threads spin while they wait
for work, and on 2 cores shared by 2 workers a map's interpolation (a matrix
product in ``analysis.maps.geometry``) spent most of the machine spinning.
In ``benchmarks/load.py -c 32 -t 30 --new 0.05`` the workers served 17-19
requests/s with the libraries' defaults and 91-105 with one thread per
operation (docs/performance.md, "Under load with 5 % new images").

``DASHAPP_COMPUTE_THREADS`` (default 1) sets both, in each worker, once, by
``dashapp.wsgi`` before the app is built: a lone forward pass is then a
little slower on an idle machine, and the worker's concurrent requests, not
one operation, use the cores.
"""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_limits

__all__ = ["limit"]


def limit(threads: int) -> None:
    """Every BLAS and OpenMP library loaded in this process, and torch's
    intra-op team, use at most ``threads`` threads from now on."""
    threadpool_limits(limits=threads)
    torch.set_num_threads(threads)
