#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright the zfsinstall authors. Licensed under the Apache License, Version 2.0 (LICENSE).
"""Ansible module that runs zfsinstall: plan, then apply exactly that plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zfsinstall
short_description: Bring a host's OpenZFS install to its zfsinstall host spec
description:
  - Runs C(zfsinstall plan --json -detailed-exitcode --out PLANFILE) and, when the plan has
    changes and the play is not in check mode, C(zfsinstall apply PLANFILE --json). apply plans
    again from the spec and options the file records and applies only a plan equal to the saved
    one (it refuses the file if the host changed since it was made), so what the module reports
    is what it applied.
  - C(changed) is zfsinstall's own answer (plan exit code 2); the module never guesses.
  - C(reboot_required) is zfsinstall apply's own answer, true exactly when the apply changed the
    zfs module or its packages on a running system and that takes effect only at the next boot.
  - In check mode only the plan runs (it changes nothing on the host).
  - With C(--diff), every step is shown with its file contents before and after where it has them.
version_added: "0.1.0"
author:
  - zfsinstall authors (@zfsinstall)
requirements:
  - zfsinstall on the managed host (the zfsinstall.zfsinstall.zfsinstall role installs it)
options:
  spec:
    description: Path of the host spec on the managed host (C(-f)).
    type: path
    default: /etc/zfsinstall.hcl
  root:
    description: Root directory of the system to manage (C(--root)); C(/) is the host itself.
    type: path
    default: /
  binary:
    description: Path of the zfsinstall binary on the managed host.
    type: path
    default: /usr/local/sbin/zfsinstall
  release_key:
    description:
      - Armored public key file on the managed host that replaces the pinned OpenZFS keys for
        zfs-release (C(--release-key)); for private mirrors that re-sign.
    type: path
  dnf_args:
    description: Extra arguments for every dnf call (one C(--dnf-arg) each).
    type: list
    elements: str
    default: []
notes:
  - Supports check mode (only the plan runs) and diff mode (each planned step, with file
    contents before and after).
"""

EXAMPLES = r"""
- name: Bring OpenZFS to the spec
  zfsinstall.zfsinstall.zfsinstall:
    spec: /etc/zfsinstall.hcl
  register: zfs

- name: Reboot when the new module or kernel needs it
  ansible.builtin.reboot:
  when: zfs.reboot_required

- name: Manage an install root (an image being built)
  zfsinstall.zfsinstall.zfsinstall:
    root: /mnt/image
    spec: /srv/specs/image.hcl
    binary: /usr/local/bin/zfsinstall
"""

RETURN = r"""
reboot_required:
  description:
    - True exactly when the apply changed the zfs module or its packages on a running system (not
      a chroot or C(root)) and that takes effect only at the next boot; false when nothing was
      applied (no changes, or check mode).
  returned: always
  type: bool
  sample: false
reboot_reasons:
  description: Why a reboot is required, one sentence each, from zfsinstall apply.
  returned: always
  type: list
  elements: str
summary:
  description: Steps to add, change and remove, from the plan.
  returned: when zfsinstall printed a plan
  type: dict
  sample: {"add": 12, "change": 2, "remove": 0}
plan:
  description: The plan as C(zfsinstall plan --json) printed it (steps, summary, diagnostics, ...).
  returned: when zfsinstall printed a plan
  type: dict
steps:
  description: One line per planned step, C(ACTION SUMMARY) as the plan shows it.
  returned: always
  type: list
  elements: str
applied:
  description: Whether apply ran (false when there was nothing to do or in check mode).
  returned: always
  type: bool
apply:
  description:
    - The result of the apply as C(zfsinstall apply --json) printed it - C(ok), each step with
      its status (done, skipped, failed, not-run), C(installed), C(transactions), C(error),
      C(reboot_required).
  returned: when apply ran
  type: dict
plan_rc:
  description: Exit code of plan (0 no changes, 1 error, 2 changes).
  returned: always
  type: int
apply_rc:
  description: Exit code of apply (0 done, 1 error).
  returned: when apply ran
  type: int
stderr:
  description: What zfsinstall printed on standard error (diagnostics, logs, the error).
  returned: always
  type: str
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def common_args(params):
    """The arguments plan and apply share: apply must be given the plan's again."""
    args = ["--root", params["root"]]
    if params["release_key"]:
        args += ["--release-key", params["release_key"]]
    for arg in params["dnf_args"]:
        args += ["--dnf-arg", arg]
    return args


def parse_json(text):
    """The one JSON document zfsinstall printed, or None."""
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def error_message(plan, report, stderr, what):
    """zfsinstall's own words for a failure: the plan's error diagnostics, apply's error, else stderr."""
    msgs = []
    for diag in (plan or {}).get("diagnostics") or []:
        if diag.get("severity") == "error":
            text = diag.get("summary", "")
            if diag.get("detail"):
                text += ": " + diag["detail"]
            msgs.append(text)
    error = (report or {}).get("error") or {}
    if error.get("message"):
        msgs.append(error["message"])
    if msgs:
        return "zfsinstall %s: %s" % (what, "; ".join(msgs))
    text = (stderr or "").strip()
    if not text:
        return "zfsinstall %s failed and printed nothing" % what
    return "zfsinstall %s: %s" % (what, text)


def step_lines(plan):
    """ACTION SUMMARY of each planned step."""
    return ["%s %s" % (s.get("action", "?"), s.get("summary", "")) for s in (plan or {}).get("steps") or []]


def step_diffs(plan):
    """Ansible's diff list: one entry per step, file contents before and after where the step has them."""
    diffs = []
    for s in (plan or {}).get("steps") or []:
        header = "%s %s" % (s.get("action", "?"), s.get("summary", ""))
        before, after = s.get("before", ""), s.get("after", "")
        if not before and not after:
            after = header + "\n"
        elif before and not before.endswith("\n"):
            before += "\n"
        if after and not after.endswith("\n"):
            after += "\n"
        diffs.append({"before_header": s.get("id", ""), "after_header": header, "before": before, "after": after})
    return diffs


def apply_result(report):
    """The module's result fields from apply's JSON report."""
    return dict(
        apply=report,
        reboot_required=bool(report.get("reboot_required")),
        reboot_reasons=list(report.get("reboot_reasons") or []),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type="path", default="/etc/zfsinstall.hcl"),
            root=dict(type="path", default="/"),
            binary=dict(type="path", default="/usr/local/sbin/zfsinstall"),
            release_key=dict(type="path"),
            dnf_args=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not os.access(p["binary"], os.X_OK):
        module.fail_json(msg="zfsinstall binary %s is missing or not executable: install it first "
                             "(the zfsinstall role does, also in check mode) or set binary" % p["binary"])
    if not os.path.isfile(p["spec"]):
        module.fail_json(msg="host spec %s does not exist: write it first (the zfsinstall role does) "
                             "or set spec; `zfsinstall recipes` prints examples" % p["spec"])

    workdir = tempfile.mkdtemp(prefix="zfsinstall-ansible-")
    try:
        planfile = os.path.join(workdir, "plan.json")
        argv = [p["binary"], "plan", "-f", p["spec"], "--json", "-detailed-exitcode", "--out", planfile] + common_args(p)
        rc, out, err = module.run_command(argv)
        plan = parse_json(out)
        result = dict(changed=False, applied=False, reboot_required=False, reboot_reasons=[],
                      plan_rc=rc, stderr=err, steps=step_lines(plan))
        if plan is not None:
            result.update(plan=plan, summary=plan.get("summary"))
        if rc not in (0, 2) or plan is None:
            module.fail_json(msg=error_message(plan, None, err, "plan"), rc=rc, cmd=argv, **result)
        if rc == 0:
            module.exit_json(**result)

        result["changed"] = True
        if module._diff:
            result["diff"] = step_diffs(plan)
        if module.check_mode:
            module.exit_json(**result)

        argv = [p["binary"], "apply", planfile, "--json"] + common_args(p)
        rc, out, err = module.run_command(argv)
        report = parse_json(out)
        result.update(applied=True, apply_rc=rc, stderr=err)
        if report is not None:
            result.update(apply_result(report))
        if rc != 0 or report is None or not report.get("ok"):
            module.fail_json(msg=error_message(None, report, err, "apply"), rc=rc, cmd=argv, **result)
        module.exit_json(**result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
