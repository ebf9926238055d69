"""The utilization fixtures the watch's tests reuse: the small IPA with UM staff (`um`) and the requests of
March 2026 decided through the services (`decided`)."""

from openipa.utilization.tests.conftest import um  # noqa: F401
from openipa.utilization.tests.test_reports import decided  # noqa: F401
