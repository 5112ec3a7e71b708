"""What an export writes gets the permissions a plain write would (the umask's), not a temporary file's 0600."""

from __future__ import annotations

import os
import stat

from annoflow.adapters.formats.common import write_whole


def test_a_file_written_whole_gets_the_umask_s_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_whole(tmp_path / "labels.json", b"{}")
        plain = tmp_path / "plain.json"
        plain.write_bytes(b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "labels.json").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o644
