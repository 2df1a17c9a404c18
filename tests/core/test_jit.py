"""`runhub warm` must compile every kernel: one it misses is compiled at some user's first upload or
request instead (seconds of numba on a fresh install). Checked: each kernel compiled at least once (numba
compiles again for other argument types; warm_up runs both regular and irregular sample runs for that)."""

from __future__ import annotations

import json
import subprocess
import sys

# In a fresh interpreter (this test process may have compiled kernels already): every @kernel of
# every runhub module, listed before and after demo.warm_up(). A kernel not yet compiled is still
# the runhub.jit wrapper under its own module's name; compiling puts numba's dispatcher there.
SCRIPT = """
import importlib, json, pkgutil
import runhub
from runhub import demo

modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(runhub.__path__, "runhub.")]

def uncompiled():
    return sorted(
        f"{mod.__name__}.{name}"
        for mod in modules
        for name, obj in vars(mod).items()
        if getattr(obj, "_runhub_kernel", None) is not None and obj._runhub_kernel.__module__ == mod.__name__
    )

before = uncompiled()
demo.warm_up()
print(json.dumps({"before": before, "after": uncompiled()}))
"""


def test_warm_up_compiles_every_kernel():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, check=True)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    # the check sees kernels at all: the FIT walk, the XML scan and mean-max are among them
    expected = {"runhub.formats.fit_walk.walk", "runhub.formats.xml_scan.tokenize", "runhub.analysis.mean_max._axis"}
    assert expected <= set(seen["before"])
    assert seen["after"] == [], f"kernels demo.warm_up() does not run: {seen['after']}"
