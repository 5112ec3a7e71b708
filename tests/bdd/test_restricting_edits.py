"""Step code for features/restricting_edits.feature: FiftyOne's CVAT guide, "Restricting label edits" examples.

The guide's read-only example is on video; here it is the image version its "Restricting additions,
deletions, and edits" section describes (an existing attribute uploaded read-only, a new one to fill).
"""

from __future__ import annotations

from pytest_bdd import scenarios

from tests.bdd.cvat_steps import *  # noqa: F403 - the shared load steps

scenarios("restricting_edits.feature")
