"""Without the SEN2 files their tests are skipped, and the run says how many and why; in CI they fail."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

TEST = "tests/test_data_sen2.py::test_national_regional_and_local_authority_rows_add_up"


def test_missing_sen2_files_skip_and_say_so_but_fail_in_ci(tmp_path):
    missing = tmp_path / "no_sen2_here"
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | {"HNSIM_SEN2_DIR": str(missing)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", TEST]
    # both runs at once: most of each is start-up
    runs = {ci: subprocess.Popen(command, cwd=ROOT, env=environ | ({"CI": "true"} if ci else {}), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for ci in (False, True)}
    local, ci = (runs[k].communicate()[0] for k in (False, True))
    assert runs[False].returncode == 0, local
    assert f"1 test skipped: DfE SEN2 files not found at {missing}" in local
    assert runs[True].returncode == 1, ci
    assert "in CI (CI is set) the SEN2 tests must run" in ci and "1 error" in ci
