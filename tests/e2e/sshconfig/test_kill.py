#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Kills "ykssh config apply" (SIGKILL) at random moments while it edits a
large config, many times, and checks after each kill that the config is
byte for byte the old or the new file, that its mode is kept, and that the
next run completes and leaves no temporary file behind.  (The unit tests
kill at each named step through a hook; this one uses no hook.)

usage: test_kill.py YKSSH   (the ykssh binary)
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOOL = sys.argv[1]
RUNS = 40


def main():
    random.seed(6)
    tmp = tempfile.mkdtemp(prefix="ykssh-kill-")
    try:
        config = os.path.join(tmp, "config")
        lines = ["# big config"]
        for i in range(4000):
            lines += ["Host h%d" % i, "    User u%d" % i, ""]
        lines += ["Host *", "    IdentityFile ~/.ssh/id_rsa", ""]
        old = "\n".join(lines).encode()
        args = [TOOL, "-q", "config", "--config", config, "apply",
                "--label", "work", "--identity-file", "~/.ssh/id_sk"]
        # The expected new bytes.
        with open(config, "wb") as f:
            f.write(old)
        os.chmod(config, 0o640)
        subprocess.run(args, check=True, stdin=subprocess.DEVNULL)
        with open(config, "rb") as f:
            new = f.read()
        assert new != old
        seen = {"old": 0, "new": 0}
        for _ in range(RUNS):
            with open(config, "wb") as f:
                f.write(old)
            os.chmod(config, 0o640)
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0.0, 0.08))
            p.send_signal(signal.SIGKILL)
            p.wait()
            with open(config, "rb") as f:
                got = f.read()
            if got == old:
                seen["old"] += 1
            elif got == new:
                seen["new"] += 1
            else:
                print("FAIL: after a kill the config is neither old nor new")
                return 1
            if os.stat(config).st_mode & 0o777 != 0o640:
                print("FAIL: mode changed")
                return 1
            subprocess.run(args, check=True, stdin=subprocess.DEVNULL)
            with open(config, "rb") as f:
                if f.read() != new:
                    print("FAIL: the next run did not complete the edit")
                    return 1
            temps = [n for n in os.listdir(tmp) if ".ykssh-tmp-" in n]
            if temps:
                print("FAIL: temporaries left: %s" % temps)
                return 1
            for n in os.listdir(tmp):
                if ".ykssh-backup-" in n:
                    os.unlink(os.path.join(tmp, n))
        print("ok: %d kills, old %d times, new %d times" % (
            RUNS, seen["old"], seen["new"]))
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
