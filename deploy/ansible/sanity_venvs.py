#!/usr/bin/python3
# Copyright the zfsinstall authors. Licensed under the Apache License, Version 2.0 (LICENSE).
"""Prepare ansible-test's sanity virtual environments from Debian's packages, offline.

ansible-test (ansible-core 2.14) runs each sanity test in a virtual environment under
~/.ansible/test/venv/sanity.TEST/PYTHON/HASH and, the first time, fills it with pip from PyPI,
which CI cannot reach. A directory there that already carries ansible-test's marker.txt is
used as it is (commands/sanity/__init__.py, create_sanity_virtualenv). This makes each such
environment a venv with --system-site-packages, so the tests run with the tools Debian packages
(pylint, pycodestyle, yamllint, voluptuous, pytest, ...) instead of the pinned ones from PyPI.

    python3 sanity_venvs.py PYTHON_VERSION TEST...

HASH is ansible-test's own hash of the test's requirements (hash_pip_commands of
collect_requirements), computed here by ansible-test's code, so the directories are the ones it
looks for. Prints one line per environment.
"""

import json
import os
import subprocess
import sys

from ansible_test._internal.commands.sanity import hash_pip_commands
from ansible_test._internal.python_requirements import collect_requirements


class Python:
    """The few attributes of ansible-test's PythonConfig that collect_requirements reads."""

    def __init__(self, version):
        self.version = version
        self.path = sys.executable


def prepare(version, name):
    """Make ansible-test's environment for sanity test name on Python version."""
    commands = collect_requirements(python=Python(version), controller=True, virtualenv=False, command=None,
                                    ansible=False, cryptography=False, coverage=False, minimize=False, sanity=name)
    label = 'sanity.%s' % name if commands else 'sanity'
    path = os.path.join(os.path.expanduser('~/.ansible/test/venv'), label, version, hash_pip_commands(commands))
    if not os.path.exists(os.path.join(path, 'marker.txt')):
        subprocess.run([sys.executable, '-m', 'venv', '--without-pip', '--system-site-packages', path], check=True)
        with open(os.path.join(path, 'meta.install.json'), 'w') as f:
            json.dump([command.serialize() for command in commands], f, indent=4)
        with open(os.path.join(path, 'meta.yaml.json'), 'w') as f:
            json.dump(True, f)  # Debian's python3-yaml has libyaml
        open(os.path.join(path, 'marker.txt'), 'w').close()
    print('%s: %s' % (name, path))


def main():
    version = sys.argv[1]
    for name in sys.argv[2:]:
        prepare(version, name)


if __name__ == '__main__':
    main()
