"""Step code for features/restricting_edits.feature: FiftyOne's CVAT guide, "Restricting label edits" examples.

The guide's read-only example is on video; here it is the image version its "Restricting additions,
deletions, and edits" section describes (an existing attribute uploaded read-only, a new one to fill).
"""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("restricting_edits.feature")
