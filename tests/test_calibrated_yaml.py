"""The calibrated config keeps the original file's comments and layout, with the fitted values in place."""

from __future__ import annotations

import yaml

from hnsim.report.calibrated_yaml import HEADER, calibrated_yaml

ORIGINAL = """# a council's reasoning, in a comment
sen_support:
  # why this rate
  request_rate: {value: {primary: 0.02, secondary: 0.01}, source: "assumption: x"}
  dropped: {value: 1, source: "assumption: y"}
simulation:
  start_date: 2014-04-01
"""


def test_values_change_and_comments_stay():
    data = yaml.safe_load(ORIGINAL)
    data["sen_support"]["request_rate"]["value"]["primary"] = 0.031
    data["sen_support"]["request_rate"]["source"] = "calibrated: z; was: assumption: x"
    del data["sen_support"]["dropped"]
    data["calibration"] = {"ensemble": {"members": 5, "file": "x.ensemble.csv"}}
    text = calibrated_yaml(data, ORIGINAL)
    assert text.startswith(HEADER)
    assert "# a council's reasoning, in a comment" in text and "# why this rate" in text
    assert "request_rate: {value: {primary: 0.031, secondary: 0.01}" in text  # flow style kept
    assert yaml.safe_load(text) == data
    assert calibrated_yaml(data).startswith(HEADER) and yaml.safe_load(calibrated_yaml(data)) == data  # no original: a plain dump


def test_a_section_comment_stays_before_its_section_when_keys_are_appended():
    original = "# yaml-language-server: $schema=x.json\na:\n  b: {c: 1}\n\n# about d\nd: 2\n"
    data = {"a": {"b": {"c": 1}, "fit": {"date": "2026-12-02"}}, "d": 2}
    text = calibrated_yaml(data, original)
    assert text.splitlines()[0] == "# yaml-language-server: $schema=x.json"  # editors read the first line only
    assert text.index("fit:") < text.index("# about d") < text.index("d: 2")
    assert yaml.safe_load(text) == data


def test_a_calibrated_config_calibrated_again_keeps_one_header():
    original = "# yaml-language-server: $schema=x.json\na: 1\n"
    once = calibrated_yaml({"a": 2}, original)
    twice = calibrated_yaml({"a": 3}, once)
    assert twice.count(HEADER) == 1 and twice.splitlines()[0] == "# yaml-language-server: $schema=x.json"
    assert yaml.safe_load(twice) == {"a": 3}
    assert calibrated_yaml({"a": 3}, HEADER + "a: 1\n").count(HEADER) == 1
