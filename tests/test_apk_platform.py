"""androguard's platform resource table, built by ringtrace.apk.platform on first use, is
androguard's own, entry for entry."""

from __future__ import annotations

import json
import subprocess
import sys

DIGEST = """
import hashlib
table = public.SYSTEM_RESOURCES
parts = [sorted(table[kind][way].items()) for kind in ("attributes", "styles")
         for way in ("forward", "inverse")]
digest = hashlib.sha256(repr(parts).encode()).hexdigest()
sizes = [len(p) for p in parts]
"""

OURS = (
    "import json\n"
    "from ringtrace.apk.platform import prepare\n"
    "prepare()\n"
    "import androguard.core.axml\n"
    "from androguard.core.resources import public\n"
    "built_at_import = 'SYSTEM_RESOURCES' in vars(public)\n"
    "same_module = androguard.core.axml.public is public\n"
    + DIGEST
    + "print(json.dumps({'built_at_import': built_at_import, 'same_module': same_module,\n"
    "                  'digest': digest, 'sizes': sizes,\n"
    "                  'name': table['attributes']['inverse'][0x01010003]}))\n"
)
THEIRS = (
    "import json\n"
    "from androguard.core.resources import public\n"
    + DIGEST
    + "print(json.dumps({'digest': digest, 'sizes': sizes,\n"
    "                  'name': table['attributes']['inverse'][0x01010003]}))\n"
)


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout  # fmt: skip
    return dict(json.loads(out.splitlines()[-1]))


def test_the_table_is_androguards_built_on_first_use() -> None:
    ours, theirs = _run(OURS), _run(THEIRS)
    assert ours["built_at_import"] is False and ours["same_module"] is True
    assert ours["name"] == theirs["name"] == "name"
    assert ours["sizes"] == theirs["sizes"]
    assert all(isinstance(n, int) and n > 100 for n in theirs["sizes"])  # type: ignore[union-attr]
    assert ours["digest"] == theirs["digest"]
