#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh list: keys joined across files, ssh config, Bitbucket and the
token, each inconsistency named.

Two resident keys (one registered with an expiry, one not); then the
states a user meets: a new laptop (keys only on the token), a missing
stub, a config entry whose files are gone.

usage: test_list.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from test_recover import RecoverTest  # noqa: E402


class TestList(RecoverTest):
    def list(self, *args, token=False):
        extra = ["--token", "--device", self.device()] if token else []
        p = self.ykssh("list", *(self.server_args() + extra + list(args)),
                       env=self.penv())
        self.assertEqual(p.returncode, 0, p.stderr)
        return {k["config_label"] or k.get("bitbucket_label") or
                k["application"]: k for k in json.loads(p.stdout)["keys"]}

    def test_states(self):
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "work", "--expires", "3",
                       *self.server_args(), env=self.penv())
        self.assertEqual(p.returncode, 0, p.stderr)
        work = json.loads(p.stdout)
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "home", "--no-register", env=self.penv())
        self.assertEqual(p.returncode, 0, p.stderr)
        home = json.loads(p.stdout)
        old_home = self.home

        keys = self.list(token=True)
        self.assertEqual(sorted(keys), ["home", "work"])
        w, h = keys["work"], keys["home"]
        self.assertEqual(w["fingerprint"], work["fingerprint"])
        self.assertEqual(w["stub"], work["stub"])
        self.assertEqual(w["config_host"], "bitbucket.org")
        self.assertTrue(w["registered"])
        self.assertTrue(w["on_token"])
        self.assertEqual(w["application"], "ssh:work")
        self.assertEqual(w["bitbucket_label"], "work")
        self.assertIn(w["days_left"], (2, 3))
        self.assertEqual(w["problems"], ["expiring"])
        self.assertFalse(h["registered"])
        self.assertEqual(h["problems"], ["not_registered"])
        # Without Bitbucket, registration is unknown, not a problem.
        raw = json.loads(e2e_json(self, "list", "--no-bitbucket"))
        self.assertTrue(all(k["registered"] is None and
                            k["problems"] == [] for k in raw["keys"]))

        # A new laptop: the keys are only on the token (and Bitbucket).
        self.new_home("laptop")
        keys = self.list(token=True)
        self.assertEqual(keys["work"]["problems"], ["not_local",
                                                    "expiring"])
        self.assertEqual(keys["ssh:home"]["problems"], ["not_local"])
        h = e2elib.run([os.environ["YKSSH_BIN"], "list", "--no-bitbucket",
                        "--token", "--device", self.device()],
                       env=self.penv())
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertIn("! on the token but not on this machine: "
                      "'ykssh recover'", h.stdout)

        # Back home: the stub of "home" is gone, then work's files.
        self.home = old_home
        os.unlink(home["stub"])
        keys = self.list()
        self.assertEqual(keys["home"]["problems"], ["no_stub",
                                                    "not_registered"])
        os.unlink(work["stub"])
        os.unlink(work["stub"] + ".pub")
        keys = self.list()
        self.assertEqual(keys["work"]["problems"], ["no_files",
                                                    "expiring"])
        self.assertIsNone(keys["work"]["stub"])


def e2e_json(test, *args):
    p = test.ykssh(*args, env=test.penv())
    test.assertEqual(p.returncode, 0, p.stderr)
    return p.stdout


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
