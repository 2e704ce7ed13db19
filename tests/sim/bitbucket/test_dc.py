#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The emulator's Bitbucket Data Center endpoints, checked with curl."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbenv  # noqa: E402
from bbtest import curl, keygen, fingerprint  # noqa: E402
from bbtest import sk_ed25519_pub, sk_ecdsa_pub  # noqa: E402


class DcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bb = bbenv.BitbucketEnv(flavours=("dc",), sshd=False,
                                    repo=False).__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="bbemu-dc-")
        cls.n = 0
        cls.keys = cls.bb.dc_url + "/rest/ssh/1.0/keys"

    @classmethod
    def tearDownClass(cls):
        errors = cls.bb.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("bbemu reported errors:\n" + errors)

    def setUp(self):
        self.bb.fault("reset")
        self.bb.set("dc_version", "9.2.0")

    def newkey(self, ktype="ed25519", bits=None, comment="me@host"):
        DcTest.n += 1
        return keygen(self.tmp, "k%d" % self.n, ktype, bits, comment)[1]

    def tok(self, user="alice"):
        return self.bb.dc_token(user)

    def add(self, pub, user="alice", **fields):
        body = {"text": pub}
        body.update(fields)
        return curl(self.bb, "POST", self.keys, bearer=self.tok(user),
                    data=body)

    def assertErrors(self, r, status, message=None):
        self.assertEqual(r.status, status, r)
        j = r.json()
        self.assertEqual(list(j), ["errors"])
        self.assertEqual(len(j["errors"]), 1)
        e = j["errors"][0]
        self.assertEqual(set(e), {"context", "message", "exceptionName"})
        self.assertIsInstance(e["message"], str)
        if message is not None:
            self.assertIn(message, e["message"])
        return e

    def test_application_properties(self):
        url = self.bb.dc_url + "/rest/api/1.0/application-properties"
        r = curl(self.bb, "GET", url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"version": "9.2.0",
                                    "buildNumber": "9002000",
                                    "buildDate": "1700000000000",
                                    "displayName": "Bitbucket"})
        self.bb.set("dc_version", "8.12.1")
        r = curl(self.bb, "GET", url.replace("1.0", "latest"),
                 bearer=self.tok())
        self.assertEqual(r.json()["version"], "8.12.1")
        # Wrong credentials are refused even where none are needed.
        self.assertErrors(curl(self.bb, "GET", url, bearer="wrong"), 401)

    def test_auth(self):
        u = self.bb.dc_user()
        ok = [dict(bearer=self.tok()),
              dict(auth=(u["slug"], self.tok())),
              dict(auth=(u["slug"], u["password"]))]
        for kw in ok:
            r = curl(self.bb, "GET", self.keys, **kw)
            self.assertEqual(r.status, 200, (kw.keys(), r))
        bad = [dict(), dict(bearer=self.tok() + "x"),
               dict(bearer=self.bb.dc_token("alice", "expired")),
               dict(auth=("bob", self.tok())),
               dict(auth=(u["slug"], "wrong"))]
        for kw in bad:
            self.assertErrors(curl(self.bb, "GET", self.keys, **kw), 401)
            self.assertErrors(curl(self.bb, "POST", self.keys,
                                   data={"text": self.newkey()}, **kw), 401)
        kinds = [e["auth"] for e in self.bb.api_requests()]
        for k in ("bearer", "basic-token", "basic-password", "none",
                  "bearer-invalid", "bearer-expired", "basic-invalid"):
            self.assertIn(k, kinds)

    def test_add_key_object(self):
        pub = self.newkey(comment="dev@laptop")
        r = self.add(pub, label="Laptop", expiryDays=30)
        self.assertEqual(r.status, 201, r)
        j = r.json()
        self.assertIsInstance(j["id"], int)
        self.assertEqual(j["text"], pub)
        self.assertEqual(j["label"], "Laptop")
        self.assertEqual(j["algorithmType"], "ED25519")
        self.assertEqual(j["bitLength"], 256)
        self.assertEqual(j["expiryDays"], 30)
        self.assertEqual(j["fingerprint"], fingerprint(pub))
        self.assertIn("createdDate", j)
        self.assertNotIn("lastAuthenticated", j)
        r = curl(self.bb, "GET", "%s/%d" % (self.keys, j["id"]),
                 bearer=self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), j)
        # Without a label the key's comment is the label.
        r = self.add(self.newkey(comment="c@d"))
        self.assertEqual(r.json()["label"], "c@d")
        self.assertNotIn("expiryDays", r.json())
        for kt, bits, alg in (("rsa", 3072, "RSA"), ("ecdsa", 384, "ECDSA")):
            r = self.add(self.newkey(kt, bits))
            self.assertEqual(r.status, 201, r)
            self.assertEqual((r.json()["algorithmType"],
                              r.json()["bitLength"]), (alg, bits))

    def test_duplicate_409(self):
        pub = self.newkey()
        self.assertEqual(self.add(pub).status, 201)
        self.assertErrors(self.add(pub), 409)
        self.assertErrors(self.add(pub.rsplit(" ", 1)[0] + " x", user="bob"),
                          409)

    def test_invalid_400(self):
        pub = self.newkey()
        t, b64 = pub.split()[:2]
        for c in ("", "garbage", "ssh-rsa " + b64, t + " " + b64[:-6],
                  self.newkey("rsa", 1024)):
            e = self.assertErrors(self.add(c), 400)
            self.assertTrue(e["message"])
        for extra in ({"expiryDays": 0}, {"expiryDays": "7"},
                      {"label": 5}):
            self.assertErrors(self.add(self.newkey(), **extra), 400)
        r = curl(self.bb, "POST", self.keys, bearer=self.tok(), data=[1])
        self.assertErrors(r, 400)

    def test_sk_keys_need_8_13(self):
        for pub, alg in ((sk_ed25519_pub(), "ED25519_SK"),
                         (sk_ecdsa_pub(), "ECDSA_SK")):
            for v in ("8.12.3", "7.21.0"):
                self.bb.set("dc_version", v)
                self.assertErrors(self.add(pub), 400)
            self.bb.set("dc_version", "8.13.0")
            r = self.add(pub)
            self.assertEqual(r.status, 201, r)
            self.assertEqual((r.json()["algorithmType"],
                              r.json()["bitLength"]), (alg, 256))

    def test_paging(self):
        with bbenv.BitbucketEnv(flavours=("dc",), sshd=False,
                                repo=False) as bb:
            tok = bb.dc_token()
            url = bb.dc_url + "/rest/ssh/latest/keys"
            ids = []
            for i in range(5):
                r = curl(bb, "POST", url, bearer=tok,
                         data={"text": self.newkey(), "label": "k%d" % i})
                self.assertEqual(r.status, 201, r)
                ids.append(r.json()["id"])

            def walk(limit=None):
                pages, start = [], None
                while True:
                    q = []
                    if start is not None:
                        q.append("start=%d" % start)
                    if limit:
                        q.append("limit=%d" % limit)
                    r = curl(bb, "GET", url + ("?" + "&".join(q) if q else ""),
                             bearer=tok)
                    self.assertEqual(r.status, 200, r)
                    j = r.json()
                    pages.append(j)
                    if j["isLastPage"]:
                        self.assertNotIn("nextPageStart", j)
                        return pages
                    start = j["nextPageStart"]
                    self.assertLess(len(pages), 50)
            pages = walk(2)
            self.assertEqual([p["size"] for p in pages], [2, 2, 1])
            self.assertEqual([p["start"] for p in pages], [0, 2, 4])
            self.assertEqual([p["limit"] for p in pages], [2, 2, 2])
            self.assertEqual([v["id"] for p in pages for v in p["values"]],
                             ids)
            self.assertEqual(len(walk()), 1)
            self.assertEqual(walk()[0]["limit"], 25)
            bb.set("dc_default_limit", 2)
            self.assertEqual([p["size"] for p in walk()], [2, 2, 1])
            # A smaller maximum forces paging on a client asking for more.
            bb.set("dc_default_limit", 25)
            bb.set("dc_max_limit", 2)
            pages = walk(100)
            self.assertEqual([(p["limit"], p["size"]) for p in pages],
                             [(2, 2), (2, 2), (2, 1)])

    def test_get_delete_by_id(self):
        r = self.add(self.newkey())
        kid = r.json()["id"]
        url = "%s/%d" % (self.keys, kid)
        self.assertErrors(curl(self.bb, "GET", url, bearer=self.tok("bob")),
                          401)
        self.assertErrors(curl(self.bb, "DELETE", url,
                               bearer=self.tok("bob")), 401)
        self.assertEqual(curl(self.bb, "GET", url,
                              bearer=self.tok("admin")).status, 200)
        r = curl(self.bb, "DELETE", url, bearer=self.tok())
        self.assertEqual(r.status, 204, r)
        self.assertErrors(curl(self.bb, "GET", url, bearer=self.tok()), 404)
        # DELETE of an absent key is 204 (reference 6).
        self.assertEqual(curl(self.bb, "DELETE", url,
                              bearer=self.tok()).status, 204)
        self.assertErrors(curl(self.bb, "GET", self.keys + "/abc",
                               bearer=self.tok()), 404)

    def test_user_parameter_admin_only(self):
        r = curl(self.bb, "GET", self.keys + "?user=bob", bearer=self.tok())
        self.assertErrors(r, 401)
        r = curl(self.bb, "POST", self.keys + "?user=bob", bearer=self.tok(),
                 data={"text": self.newkey()})
        self.assertErrors(r, 401)
        r = curl(self.bb, "GET", self.keys + "?user=alice", bearer=self.tok())
        self.assertEqual(r.status, 200, r)
        r = curl(self.bb, "POST", self.keys + "?user=bob",
                 bearer=self.tok("admin"), data={"text": self.newkey()})
        self.assertEqual(r.status, 201, r)
        kid = r.json()["id"]
        r = curl(self.bb, "GET", self.keys + "?user=bob&limit=1000",
                 bearer=self.tok("admin"))
        self.assertIn(kid, [v["id"] for v in r.json()["values"]])
        r = curl(self.bb, "GET", self.keys + "?user=nobody",
                 bearer=self.tok("admin"))
        self.assertErrors(r, 404)

    def test_settings(self):
        url = self.bb.dc_url + "/rest/ssh/1.0/settings"
        self.assertErrors(curl(self.bb, "GET", url), 401)
        r = curl(self.bb, "GET", url, bearer=self.tok())
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["enabled"], True)
        self.assertEqual(j["port"], 7999)
        self.assertEqual(j["baseUrl"], "ssh://127.0.0.1:7999")
        self.assertEqual(j["accessKeysEnabled"], True)

    def test_unknown_path_404(self):
        r = curl(self.bb, "GET", self.bb.dc_url + "/rest/ssh/1.0/nothing",
                 bearer=self.tok())
        self.assertErrors(r, 404)
        # The Cloud prefix is not served by a Data Center-only emulator.
        r = curl(self.bb, "GET", self.bb.dc_url + "/2.0/user")
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
