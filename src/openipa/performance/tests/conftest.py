"""The utilization fixtures the watch's tests reuse: the small IPA with UM staff (`um`) and the requests of
March 2026 decided through the services (`decided`); and the scorecards' small IPA (`scorecard_ipa`)."""

import pytest

from openipa.conftest import SmallIpa
from openipa.utilization.tests.conftest import um  # noqa: F401
from openipa.utilization.tests.test_reports import decided  # noqa: F401


@pytest.fixture
def scorecard_ipa(um: SmallIpa, decided: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> SmallIpa:  # noqa: F811
    """The scorecards' small IPA (scorecard_fixtures.build) with a minimum panel of 1 member-month and K = 2."""
    from openipa.performance.tests.scorecard_fixtures import build, set_data

    set_data(monkeypatch, min_member_months=1, k=2)
    return build(um)
