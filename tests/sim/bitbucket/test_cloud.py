#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The emulator's Bitbucket Cloud REST 2.0 endpoints, checked with curl."""

import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbenv  # noqa: E402
from bbtest import curl, keygen, fingerprint, sk_ed25519_pub  # noqa: E402

SCOPE_MSG = "Your credentials lack one or more required privilege scopes."


class CloudTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bb = bbenv.BitbucketEnv(flavours=("cloud",), sshd=False,
                                    repo=False).__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="bbemu-cloud-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        errors = cls.bb.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("bbemu reported errors:\n" + errors)

    def setUp(self):
        self.bb.fault("reset")

    def newkey(self, ktype="ed25519", bits=None, comment="me@host"):
        CloudTest.n += 1
        return keygen(self.tmp, "k%d" % self.n, ktype, bits, comment)[1]

    def keys_url(self, user="alice", by="account_id", quote=False):
        sel = self.bb.cloud_user(user)[by]
        if quote:
            sel = urllib.parse.quote(sel, safe="")
        return "%s/users/%s/ssh-keys" % (self.bb.cloud_url, sel)

    def add(self, pub, label="lbl", user="alice", token="full", query=""):
        return curl(self.bb, "POST", self.keys_url(user) + query,
                    auth=self.bb.cloud_token(user, token),
                    data={"key": pub, "label": label})

    def assertError(self, r, status, message=None):
        self.assertEqual(r.status, status, r)
        j = r.json()
        self.assertEqual(j["type"], "error")
        self.assertIsInstance(j["error"]["message"], str)
        if message is not None:
            self.assertIn(message, j["error"]["message"])
        return j["error"]

    # --- /user and authentication ------------------------------------

    def test_user_with_api_token(self):
        r = curl(self.bb, "GET", self.bb.cloud_url + "/user",
                 auth=self.bb.cloud_token())
        self.assertEqual(r.status, 200, r)
        j = r.json()
        u = self.bb.cloud_user()
        self.assertEqual(j["type"], "user")
        self.assertEqual(j["uuid"], u["uuid"])
        self.assertRegex(j["uuid"], r"^\{[0-9a-f-]{36}\}$")
        self.assertEqual(j["account_id"], u["account_id"])
        self.assertEqual(j["nickname"], "alice")
        self.assertEqual(j["display_name"], "Alice Example")
        self.assertEqual(j["account_status"], "active")
        self.assertTrue(r.headers["content-type"].startswith(
            "application/json"))

    def test_user_with_oauth_bearer(self):
        for name in ("write", "read"):
            r = curl(self.bb, "GET", self.bb.cloud_url + "/user",
                     bearer=self.bb.cloud_oauth("alice", name))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["nickname"], "alice")

    def test_bad_credentials_401(self):
        email, tok = self.bb.cloud_token()
        cases = [dict(), dict(auth=(email, tok + "x")),
                 dict(auth=("bob@example.com", tok)),
                 dict(auth=(email, "")),
                 dict(bearer="nope"),
                 dict(auth=self.bb.cloud_token("alice", "expired")),
                 dict(bearer=self.bb.cloud_oauth("alice", "expired"))]
        for kw in cases:
            r = curl(self.bb, "GET", self.bb.cloud_url + "/user", **kw)
            self.assertError(r, 401)
            r = curl(self.bb, "GET", self.keys_url(), **kw)
            self.assertError(r, 401)

    def test_api_token_needs_email_not_nickname(self):
        _, tok = self.bb.cloud_token()
        r = curl(self.bb, "GET", self.bb.cloud_url + "/user",
                 auth=("alice", tok))
        self.assertError(r, 401)

    def test_app_password_refused(self):
        nick, pw = self.bb.cloud_app_password()
        for user in (nick, self.bb.cloud_user()["email"]):
            r = curl(self.bb, "GET", self.bb.cloud_url + "/user",
                     auth=(user, pw))
            e = self.assertError(r, 401, "App passwords")
            self.assertIn("removed", e["message"])
        log = self.bb.api_requests()
        self.assertEqual(log[-1]["auth"], "basic-app-password")

    # --- scopes (reference 5.1, 5.3) ----------------------------------

    def scope_error(self, r, required):
        e = self.assertError(r, 403)
        self.assertEqual(e["message"], SCOPE_MSG)
        self.assertIsInstance(e["detail"], dict)
        self.assertEqual(e["detail"]["required"], required)
        self.assertIsInstance(e["detail"]["granted"], list)
        return e

    def test_scope_errors_api_token(self):
        e = self.scope_error(curl(self.bb, "GET", self.bb.cloud_url + "/user",
                                  auth=self.bb.cloud_token("alice", "noread")),
                             ["read:user:bitbucket"])
        self.assertIn("write:ssh-key:bitbucket", e["detail"]["granted"])
        self.scope_error(self.add(self.newkey(), token="read"),
                         ["read:ssh-key:bitbucket", "write:ssh-key:bitbucket"])
        self.scope_error(self.add(self.newkey(), token="nowrite"),
                         ["read:ssh-key:bitbucket", "write:ssh-key:bitbucket"])
        r = self.add(self.newkey())
        self.assertEqual(r.status, 201, r)
        kid = r.json()["uuid"]
        url = self.keys_url() + "/" + urllib.parse.quote(kid, safe="")
        self.scope_error(curl(self.bb, "DELETE", url,
                              auth=self.bb.cloud_token("alice", "nodelete")),
                         ["delete:ssh-key:bitbucket"])
        self.scope_error(curl(self.bb, "PUT", url, data={"label": "x"},
                              auth=self.bb.cloud_token("alice", "read")),
                         ["read:ssh-key:bitbucket", "write:ssh-key:bitbucket"])
        # Nothing was changed by the refused requests.
        r = curl(self.bb, "GET", url, auth=self.bb.cloud_token())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["label"], "lbl")

    def test_scope_errors_oauth(self):
        rd = self.bb.cloud_oauth("alice", "read")
        r = curl(self.bb, "GET", self.keys_url(), bearer=rd)
        self.assertEqual(r.status, 200, r)
        r = curl(self.bb, "POST", self.keys_url(), bearer=rd,
                 data={"key": self.newkey()})
        e = self.scope_error(r, ["account:write"])
        self.assertEqual(e["detail"]["granted"], ["account"])
        r = curl(self.bb, "POST", self.keys_url(),
                 bearer=self.bb.cloud_oauth("alice", "write"),
                 data={"key": self.newkey()})
        self.assertEqual(r.status, 201, r)
        url = self.keys_url() + "/" + r.json()["uuid"].strip("{}")
        self.scope_error(curl(self.bb, "DELETE", url, bearer=rd),
                         ["account:write"])

    # --- keys ----------------------------------------------------------

    def test_add_key_object(self):
        pub = self.newkey(comment="dev@laptop")
        r = self.add(pub, label="My key")
        self.assertEqual(r.status, 201, r)
        j = r.json()
        u = self.bb.cloud_user()
        self.assertEqual(j["type"], "ssh_key")
        self.assertRegex(j["uuid"], r"^\{[0-9a-f-]{36}\}$")
        self.assertEqual(j["key"], " ".join(pub.split()[:2]))
        self.assertEqual(j["comment"], "dev@laptop")
        self.assertEqual(j["label"], "My key")
        self.assertEqual(j["fingerprint"], fingerprint(pub))
        self.assertNotIn("=", j["fingerprint"])
        self.assertIsNone(j["expires_on"])
        self.assertIsNone(j["last_used"])
        self.assertRegex(j["created_on"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
        self.assertEqual(j["owner"]["uuid"], u["uuid"])
        self.assertEqual(j["owner"]["account_id"], u["account_id"])
        self.assertEqual(j["links"]["self"]["href"], "%s/users/%s/ssh-keys/%s"
                         % (self.bb.cloud_url, u["uuid"],
                            j["uuid"].strip("{}")))
        # The self link answers.
        r = curl(self.bb, "GET", j["links"]["self"]["href"],
                 auth=self.bb.cloud_token())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), j)

    def test_key_types(self):
        for kt, bits in (("ecdsa", 256), ("ecdsa", 384), ("ecdsa", 521),
                         ("rsa", 2048)):
            r = self.add(self.newkey(kt, bits))
            self.assertEqual(r.status, 201, (kt, bits, r))

    def test_selected_user_and_key_id_forms(self):
        r = self.add(self.newkey())
        self.assertEqual(r.status, 201, r)
        kid = r.json()["uuid"]
        auth = self.bb.cloud_token()
        for by, q in (("account_id", False), ("uuid", True), ("uuid", False)):
            base = self.keys_url(by=by, quote=q)
            r = curl(self.bb, "GET", base, auth=auth)
            self.assertEqual(r.status, 200, (by, q, r))
            for k in (kid, kid.strip("{}"), urllib.parse.quote(kid, safe=""),
                      kid.upper()):
                r = curl(self.bb, "GET", base + "/" + k, auth=auth)
                self.assertEqual(r.status, 200, (by, q, k, r))
                self.assertEqual(r.json()["uuid"], kid)

    def test_duplicate_key_400(self):
        pub = self.newkey()
        self.assertEqual(self.add(pub).status, 201)
        for user in ("alice", "bob"):
            r = self.add(pub, user=user)
            e = self.assertError(r, 400,
                                 "Someone has already registered that SSH key")
            self.assertIn("key", e["fields"])
        # Same key, other comment: still the same key.
        r = self.add(" ".join(pub.split()[:2]) + " other")
        self.assertError(r, 400, "Someone has already registered")

    def test_invalid_keys_400(self):
        pub = self.newkey()
        t, b64 = pub.split()[:2]
        rsa1024 = self.newkey("rsa", 1024)
        cases = ["", "garbage", "ssh-ed25519", "ssh-ed25519 !!!notbase64",
                 "ssh-rsa " + b64, t + " " + b64[:-8],
                 'no-pty ' + pub, rsa1024,
                 "-----BEGIN OPENSSH PRIVATE KEY-----", sk_ed25519_pub()]
        for c in cases:
            r = self.add(c)
            e = self.assertError(r, 400)
            self.assertTrue(e["message"], c)
        r = curl(self.bb, "POST", self.keys_url(), auth=self.bb.cloud_token(),
                 data=["not", "an", "object"])
        self.assertError(r, 400)
        # Nothing was stored.
        self.assertNotIn(b64, str(self.bb.keys()))

    def test_sk_switch(self):
        pub = sk_ed25519_pub()
        self.assertError(self.add(pub), 400, "sk-ssh-ed25519@openssh.com")
        self.bb.set("cloud_accepts_sk", True)
        try:
            r = self.add(pub)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["key"].split()[0],
                             "sk-ssh-ed25519@openssh.com")
        finally:
            self.bb.set("cloud_accepts_sk", False)

    def test_other_user_403_unknown_404(self):
        r = curl(self.bb, "GET", self.keys_url("bob"),
                 auth=self.bb.cloud_token("alice"))
        self.assertError(r, 403)
        r = self.add(self.newkey(), user="bob", token="full")
        self.assertEqual(r.status, 201, r)
        bobkey = r.json()["uuid"]
        url = self.keys_url("bob") + "/" + bobkey.strip("{}")
        for m in ("GET", "DELETE"):
            r = curl(self.bb, m, url, auth=self.bb.cloud_token("alice"))
            self.assertError(r, 403)
        r = curl(self.bb, "POST", self.keys_url("bob"),
                 auth=self.bb.cloud_token("alice"),
                 data={"key": self.newkey()})
        self.assertError(r, 403)
        r = curl(self.bb, "GET", self.bb.cloud_url + "/users/%7B00000000-"
                 "0000-0000-0000-000000000000%7D/ssh-keys",
                 auth=self.bb.cloud_token())
        self.assertError(r, 404)
        r = curl(self.bb, "GET", self.keys_url() +
                 "/00000000-0000-0000-0000-000000000000",
                 auth=self.bb.cloud_token())
        self.assertError(r, 404)
        r = curl(self.bb, "GET", self.bb.cloud_url + "/nothing",
                 auth=self.bb.cloud_token())
        self.assertError(r, 404)

    def test_put_label_and_delete(self):
        r = self.add(self.newkey(), label="old")
        kid = r.json()["uuid"]
        url = self.keys_url() + "/" + kid.strip("{}")
        auth = self.bb.cloud_token()
        r = curl(self.bb, "PUT", url, auth=auth, data={"label": "new"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["label"], "new")
        self.assertEqual(curl(self.bb, "GET", url, auth=auth).json()["label"],
                         "new")
        r = curl(self.bb, "DELETE", url, auth=auth)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertError(curl(self.bb, "GET", url, auth=auth), 404)
        self.assertError(curl(self.bb, "DELETE", url, auth=auth), 404)

    def test_expires_on(self):
        r = self.add(self.newkey(), query="?expires_on=2099-12-31")
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["expires_on"].startswith(
            "2099-12-31T00:00:00"), r)
        r = self.add(self.newkey(),
                     query="?expires_on=2099-06-30T12:00:00%2B02:00")
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["expires_on"].startswith(
            "2099-06-30T10:00:00"), r)
        for bad in ("2001-01-01", "tomorrow"):
            self.assertError(self.add(self.newkey(),
                                      query="?expires_on=" + bad), 400)

    # --- paging (reference 5.2) ----------------------------------------

    def walk(self, url, auth):
        """Follows next links; returns the pages."""
        pages = []
        while url:
            r = curl(self.bb, "GET", url, auth=auth)
            self.assertEqual(r.status, 200, r)
            j = r.json()
            pages.append(j)
            url = j.get("next")
            if url:
                self.assertTrue(url.startswith(self.bb.cloud_url + "/"), url)
            self.assertLess(len(pages), 50)
        return pages

    def test_paging(self):
        st = bbenv.default_state(("cloud",))
        with bbenv.BitbucketEnv(flavours=("cloud",), state=st, sshd=False,
                                repo=False) as bb:
            auth = bb.cloud_token()
            url = "%s/users/%s/ssh-keys" % (bb.cloud_url,
                                            bb.cloud_user()["account_id"])
            for i in range(5):
                r = curl(bb, "POST", url, auth=auth,
                         data={"key": self.newkey(), "label": "k%d" % i})
                self.assertEqual(r.status, 201, r)
            self.bb, saved = bb, self.bb
            try:
                pages = self.walk(url + "?pagelen=2", auth)
                self.assertEqual([len(p["values"]) for p in pages], [2, 2, 1])
                self.assertEqual([p["page"] for p in pages], [1, 2, 3])
                self.assertTrue(all(p["size"] == 5 and p["pagelen"] == 2
                                    for p in pages))
                self.assertNotIn("previous", pages[0])
                self.assertIn("previous", pages[1])
                labels = [v["label"] for p in pages for v in p["values"]]
                self.assertEqual(labels, ["k0", "k1", "k2", "k3", "k4"])
                # The default page length is configurable.
                self.assertEqual(len(self.walk(url, auth)), 1)
                bb.set("cloud_default_pagelen", 2)
                pages = self.walk(url, auth)
                self.assertEqual([len(p["values"]) for p in pages], [2, 2, 1])
                # pagelen is capped at 100.
                r = curl(bb, "GET", url + "?pagelen=1000", auth=auth)
                self.assertEqual(r.json()["pagelen"], 100)
                self.assertNotIn("next", r.json())
                r = curl(bb, "GET", url + "?pagelen=x", auth=auth)
                self.assertEqual(r.status, 400, r)
                # A smaller maximum forces paging on a client that asks
                # for 100 ("Individual APIs may enforce different values").
                bb.set("cloud_max_pagelen", 2)
                pages = self.walk(url + "?pagelen=100", auth)
                self.assertEqual([(p["pagelen"], len(p["values"]))
                                  for p in pages], [(2, 2), (2, 2), (2, 1)])
                self.assertIn("pagelen=100", pages[0]["next"])
            finally:
                self.bb = saved


if __name__ == "__main__":
    unittest.main(verbosity=2)
