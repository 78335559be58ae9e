"""androguard's platform resource table is built on first use, and is androguard's own."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from ringtrace.apk.platform import PUBLIC, prepare
prepare()
import androguard.core.axml
from androguard.core.resources import public
loaded_at_import = "_public_res" in vars(public)
table = public.SYSTEM_RESOURCES
same_module = androguard.core.axml.public is public
print(json.dumps({"loaded_at_import": loaded_at_import, "same_module": same_module,
                  "attributes": len(table["attributes"]["forward"]),
                  "sample": table["attributes"]["inverse"][0x01010003]}))
"""

REFERENCE = """
import json
from androguard.core.resources import public
table = public.SYSTEM_RESOURCES
print(json.dumps({"attributes": len(table["attributes"]["forward"]),
                  "sample": table["attributes"]["inverse"][0x01010003],
                  "all": sorted(table["attributes"]["forward"].items())}))
"""


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout  # fmt: skip
    return dict(json.loads(out.splitlines()[-1]))


def test_the_table_is_deferred_then_identical() -> None:
    ours = _run(PROBE)
    theirs = _run(REFERENCE)
    assert ours["loaded_at_import"] is False
    assert ours["same_module"] is True
    assert ours["sample"] == theirs["sample"] == "name"
    assert ours["attributes"] == theirs["attributes"]
    everything = '"sample": sorted(table["attributes"]["forward"].items())'
    full = _run(PROBE.replace('"sample": table["attributes"]["inverse"][0x01010003]', everything))
    assert full["sample"] == theirs["all"]
