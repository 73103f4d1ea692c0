"""CI: look for known vulnerabilities in the installed packages with pip-audit (PyPI's advisory data).

Exits 1 when a vulnerability is found. When the advisory service cannot be reached (no network, or a package
mirror that does not serve per-release data, so every lookup fails), it says that the audit was NOT done and exits
0: not audited is not the same as clean, and the message says which it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    command = [str(Path(sys.executable).parent / "pip-audit"), "--progress-spinner", "off", "--skip-editable",
               "--format", "json"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"pip-audit: could not run ({error}); the audit was NOT done")
        return 0
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: the advisory service could not be reached ({last[:200]}); the audit was NOT done")
        return 0
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            print(f"pip-audit: {dependency['name']} {dependency['version']} has {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        return 1
    audited = len(dependencies) - len(skipped)
    if audited == 0:
        print(f"pip-audit: none of the {len(dependencies)} installed packages could be looked up (the advisory "
              f"service is out of reach from here); the audit was NOT done")
    else:
        print(f"pip-audit: no known vulnerabilities in {audited} packages"
              + (f"; {len(skipped)} could not be looked up" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
