"""The run refuses a config that would record a credential, by its name or by its value."""

from __future__ import annotations

import pytest

from annoflow.domain.annotation_run import AnnotationRun, RunError
from annoflow.domain.ids import new_id
from annoflow.domain.label_schema import LabelSchema


class Hidden:
    """Anything that keeps a value behind reveal(), as annoflow's Secret does."""

    def reveal(self) -> str:
        return "s3cr3t-value"


def _request(config):
    return AnnotationRun.request(
        dataset="ds", key="k", backend="cvat", config=config, label_schema=LabelSchema(()), sample_ids=[new_id()]
    )


@pytest.mark.parametrize(
    "config, message",
    [
        ({"url": "http://admin:s3cr3t-value@cvat.example"}, r"config\['url'\] is a URL with a user name or password"),
        ({"url": "https://admin@cvat.example:8080/api"}, r"config\['url'\] is a URL with a user name"),
        ({"trackers": ["http://bugs", "http://u:s3cr3t-value@bugs"]}, r"config\['trackers'\]\[1\] is a URL"),
        ({"nested": {"url": "ftp://u:s3cr3t-value@x"}}, r"config\['nested'\]\['url'\] is a URL"),
        ({"via": "Bearer s3cr3t-value-0123456789"}, r"config\['via'\] looks like an Authorization header's value"),
        ({"via": "Token 0123456789abcdef0123456789abcdef"}, r"looks like an Authorization header's value"),
        ({"anything": Hidden()}, r"config\['anything'\] is a secret"),
    ],
)
def test_a_credential_value_is_refused_without_showing_it(config, message):
    with pytest.raises(RunError, match=message) as caught:
        _request(config)
    assert "s3cr3t-value" not in str(caught.value) and "0123456789" not in str(caught.value)


@pytest.mark.parametrize(
    "config",
    [
        {"url": "http://cvat.example:8080"},
        {"url": "http://cvat.example/path@not-user-info"},
        {"project_name": "Basic recipe"},
        {"project_name": "Token ring"},
        {"job_assignees": ["alice@example.com"]},
    ],
)
def test_plain_values_are_recorded(config):
    assert dict(_request(config).config) == {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
