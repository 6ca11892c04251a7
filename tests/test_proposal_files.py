"""hubbot's values file added to a hub's list in cluster.yaml: one line, comments and layout kept,
checked by reading it back; layouts it cannot follow are refused with what to do."""

from __future__ import annotations

import pytest
import yaml

from hubbot.errors import UserError
from hubbot.proposals.files import overlay_name, with_values_file
from tests.support.fleet_repo import sample

LEAP = (sample() / "config/clusters/leap/cluster.yaml").read_text()


def test_the_file_goes_last_in_the_hubs_list_and_nothing_else_changes() -> None:
    name = overlay_name("prod")
    edited = with_values_file(LEAP, "prod", name)
    assert edited.count("\n") == LEAP.count("\n") + 1
    assert f"  - enc-prod.secret.values.yaml\n  - {name}\n- name: public" in edited
    data = yaml.safe_load(edited)
    assert data["hubs"][1]["helm_chart_values_files"][-1] == name
    assert [h["helm_chart_values_files"] for h in data["hubs"][::2]] == [
        h["helm_chart_values_files"] for h in yaml.safe_load(LEAP)["hubs"][::2]]
    assert with_values_file(edited, "prod", name) == edited  # listed already


def test_comments_quotes_and_indentation_are_kept() -> None:
    text = ("name: c\nprovider: aws\nhubs:\n  # the main hub\n  - name: \"prod\"   # comment\n"
            "    domain: x.org\n    helm_chart: basehub\n    helm_chart_values_files:\n"
            "      # applied in order\n      - common.values.yaml\n      - 'prod.values.yaml'\n"
            "  - name: staging\n    domain: s.x.org\n    helm_chart: basehub\n    helm_chart_values_files:\n"
            "      - common.values.yaml\n")
    edited = with_values_file(text, "prod", "hubbot-prod.values.yaml")
    assert "      - 'prod.values.yaml'\n      - hubbot-prod.values.yaml\n  - name: staging" in edited
    assert "# the main hub" in edited and "# applied in order" in edited
    last = with_values_file(text, "staging", "hubbot-staging.values.yaml")
    assert last.endswith("      - common.values.yaml\n      - hubbot-staging.values.yaml\n")


def test_layouts_it_cannot_follow_are_refused_with_what_to_do() -> None:
    flow = "name: c\nhubs:\n- name: prod\n  domain: x\n  helm_chart: basehub\n  helm_chart_values_files: [a.yaml]\n"
    with pytest.raises(UserError, match="not a block list; add the file yourself"):
        with_values_file(flow, "prod", "hubbot-prod.values.yaml")
    with pytest.raises(UserError, match="lists no hub nope"):
        with_values_file(LEAP, "nope", "x.yaml")
    with pytest.raises(UserError, match="not valid YAML"):
        with_values_file("hubs: [", "prod", "x.yaml")
