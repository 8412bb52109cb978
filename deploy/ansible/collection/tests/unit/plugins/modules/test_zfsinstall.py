# -*- coding: utf-8 -*-
# Copyright the zfsinstall authors. Licensed under the Apache License, Version 2.0 (LICENSE).
"""Unit tests of the zfsinstall module's helpers, on output recorded from the real zfsinstall
(fixtures/README.md says how each file was made). The module end to end, with the real
zfsinstall against the real dnf/rpm test bed, is deploy/ansible_test.go in the zfsinstall
repository."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.zfsinstall.zfsinstall.plugins.modules import zfsinstall

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.mark.parametrize("params,want", [
    (dict(root="/", release_key=None, dnf_args=[]), ["--root", "/"]),
    (dict(root="/mnt/image", release_key="/etc/pki/mirror.asc", dnf_args=["--setopt=a=b", "--nogpgcheck=no"]),
     ["--root", "/mnt/image", "--release-key", "/etc/pki/mirror.asc", "--dnf-arg", "--setopt=a=b", "--dnf-arg", "--nogpgcheck=no"]),
])
def test_common_args(params, want):
    assert zfsinstall.common_args(params) == want


def test_parse_json():
    assert zfsinstall.parse_json("") is None
    assert zfsinstall.parse_json("Error: reading the spec") is None
    assert len(zfsinstall.parse_json(fixture("plan-changes.json"))["steps"]) == 16


def test_refused_plan_message_is_zfsinstalls_diagnostic():
    plan = zfsinstall.parse_json(fixture("plan-refused.json"))
    msg = zfsinstall.error_message(plan, None, "", "plan")
    assert msg.startswith("zfsinstall plan: kmod packaging cannot work on this host: ")
    assert "ELRepo" in msg


def test_failed_apply_message_is_applys_error():
    report = zfsinstall.parse_json(fixture("apply-failed.json"))
    msg = zfsinstall.error_message(None, report, "Error: reading --release-key: ...\n", "apply")
    assert msg == "zfsinstall apply: reading --release-key: open /nonexistent/key.asc: no such file or directory"


@pytest.mark.parametrize("stderr,want", [
    ("Error: the spec /etc/zfsinstall.hcl has errors (see above)\n", "zfsinstall plan: Error: the spec /etc/zfsinstall.hcl has errors (see above)"),
    ("", "zfsinstall plan failed and printed nothing"),
])
def test_message_without_json(stderr, want):
    assert zfsinstall.error_message(None, None, stderr, "plan") == want


def test_steps_and_diffs_follow_the_plan():
    plan = zfsinstall.parse_json(fixture("plan-changes.json"))
    lines = zfsinstall.step_lines(plan)
    diffs = zfsinstall.step_diffs(plan)
    assert len(lines) == len(plan["steps"]) == len(diffs) == 16
    for step, line, diff in zip(plan["steps"], lines, diffs):
        assert line == step["action"] + " " + step["summary"]
        assert diff["before_header"] == step["id"]
        assert diff["after"].endswith("\n")
        if step.get("after"):
            assert diff["after"].rstrip("\n") == step["after"].rstrip("\n")
    conf = [d for d in diffs if d["before_header"] == "file./etc/modprobe.d/zfs.conf"]
    assert len(conf) == 1 and "options zfs zfs_arc_max=" in conf[0]["after"]


def test_apply_result():
    report = zfsinstall.parse_json(fixture("apply-done.json"))
    got = zfsinstall.apply_result(report)
    assert got["reboot_required"] is False and got["reboot_reasons"] == []
    assert got["apply"]["installed"] == ["zfs-2.2.8-1.el9.x86_64", "kmod-zfs-2.2.8-1.el9.x86_64"]
    assert all(s["status"] in ("done", "skipped") for s in got["apply"]["steps"])
    report = dict(report, reboot_required=True, reboot_reasons=["the zfs module loaded now (2.2.6-1) was replaced ..."])
    got = zfsinstall.apply_result(report)
    assert got["reboot_required"] is True and len(got["reboot_reasons"]) == 1


def test_documented_returns_are_returned():
    """Every key the module returns is in RETURN (ansible-test's validate-modules checks the options)."""
    import yaml
    documented = set(yaml.safe_load(zfsinstall.RETURN))
    returned = {"reboot_required", "reboot_reasons", "summary", "plan", "steps", "applied", "apply", "plan_rc", "apply_rc", "stderr"}
    assert returned == documented
    assert set(zfsinstall.apply_result(json.loads(fixture("apply-done.json")))) <= documented
