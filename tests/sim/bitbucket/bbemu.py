#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Bitbucket emulator for ykssh's tests (never installed).

HTTPS on 127.0.0.1 serving the user SSH-key endpoints of Bitbucket Cloud
(REST 2.0, under /2.0) and Bitbucket Data Center (/rest/ssh/1.0,
/rest/api/1.0/application-properties) with their JSON shapes, paging,
authentication, scope checks and error bodies, a persistent key store
(STATE/state.json) and fault injection through a control socket.  See
README.md next to this file; the behaviour follows
../shared/reference/piv-and-bitbucket.md sections 5 and 6.

Usage: bbemu.py --state DIR --cert PEM --key PEM [--port 0]
                [--control SOCKET] [--fault CMD]... [--die-with-parent]
Prints "READY port=<n>" on stdout once it listens.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshkeys  # noqa: E402

MAX_BODY = 1 << 20

DEFAULT_SETTINGS = {
    "flavours": ["cloud", "dc"],
    "cloud_default_pagelen": 10,
    "cloud_max_pagelen": 100,
    "cloud_accepts_sk": False,
    "dc_version": "9.2.0",
    "dc_build_number": "9002000",
    "dc_default_limit": 25,
    "dc_max_limit": 1000,
    "ssh_port": 7999,
    "ssh_host": "127.0.0.1",
    "ssh_fingerprint": None,
    "clock_offset": 0,
}

# API-token scopes and OAuth 2 classic scopes per operation (reference
# 5.1, from the x-atlassian-oauth2-scopes of the published OpenAPI).
CLOUD_SCOPES = {
    "user": (["read:user:bitbucket"], "account"),
    "list": (["read:ssh-key:bitbucket"], "account"),
    "get": (["read:ssh-key:bitbucket"], "account"),
    "add": (["read:ssh-key:bitbucket", "write:ssh-key:bitbucket"],
            "account:write"),
    "put": (["read:ssh-key:bitbucket", "write:ssh-key:bitbucket"],
            "account:write"),
    "delete": (["delete:ssh-key:bitbucket"], "account:write"),
}
# Bitbucket's classic scopes: a :write scope implies its read scope.
OAUTH_IMPLIES = {"account:write": ["account"]}


def iso(ts):
    """Bitbucket Cloud's timestamp form: 2018-03-14T13:17:05.196003+00:00."""
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).isoformat(timespec="microseconds")


def parse_iso(text):
    """ISO-8601 date or date-time (no zone = UTC) -> epoch seconds."""
    t = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        d = datetime.datetime.strptime(t, "%Y-%m-%d")
        return d.replace(tzinfo=datetime.timezone.utc).timestamp()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def version_tuple(v):
    out = []
    for p in str(v).split("."):
        m = re.match(r"\d+", p)
        out.append(int(m.group(0)) if m else 0)
    return tuple(out + [0] * (3 - len(out)))


class Reply:
    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            self.body = b""
        elif isinstance(body, bytes):
            self.body = body
        else:
            self.body = json.dumps(body).encode()
        if self.body and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = "application/json; charset=utf-8"


def cloud_error(status, message, detail=None, fields=None, extra=None):
    err = {"message": message}
    if detail is not None:
        err["detail"] = detail
    if fields is not None:
        err["fields"] = fields
    if extra:
        err.update(extra)
    return Reply(status, {"type": "error", "error": err})


def dc_error(status, message, exception=None, context=None, headers=None):
    return Reply(status, {"errors": [{"context": context,
                                      "message": message,
                                      "exceptionName": exception}]},
                 headers=headers)


CLOUD_STATUS_TEXT = {
    400: "Bad request",
    401: "Token is invalid, expired, or not supported for this endpoint.",
    403: "Access denied.",
    404: "Resource not found",
    429: "Rate limit for this resource has been exceeded.",
    500: "Something went wrong",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}

DC_STATUS_TEXT = {
    429: "Rate limit exceeded. Please wait and try again.",
    500: "An unexpected error occurred.",
    502: "Bad gateway",
    503: "Bitbucket is currently unavailable.",
    504: "Gateway timeout",
}


class Fault:
    """One injected fault rule (see README "Fault injection")."""

    KINDS = ("fail", "fail-after-commit", "drop", "truncate", "malformed",
             "huge")

    def __init__(self, words):
        if not words or words[0] not in self.KINDS:
            raise ValueError("unknown fault")
        self.kind = words[0]
        args = words[1:]
        self.count = 1
        self.status = None
        self.retry_after = None
        self.method = None
        self.path = None
        self.body = "json"
        self.mb = 50
        self.length = False
        pos = []
        i = 0
        while i < len(args):
            a = args[i]
            if "=" in a:
                k, v = a.split("=", 1)
            elif a in ("retry-after", "method", "path", "body", "mb") \
                    and i + 1 < len(args):
                k, v = a, args[i + 1]
                i += 1
            else:
                k, v = None, a
            if k is None:
                pos.append(v)
            elif k == "retry-after":
                self.retry_after = int(v)
            elif k == "method":
                self.method = v.upper()
            elif k == "path":
                self.path = v
            elif k == "body":
                if v not in ("json", "html", "empty"):
                    raise ValueError("body must be json, html or empty")
                self.body = v
            elif k == "mb":
                self.mb = int(v)
            else:
                raise ValueError("unknown option " + k)
            i += 1
        if pos:
            self.count = int(pos.pop(0))
        if self.kind in ("fail", "fail-after-commit"):
            if not pos:
                raise ValueError(self.kind + " needs a status")
            st = pos.pop(0)
            if self.kind == "fail-after-commit" and st == "drop":
                self.status = "drop"
            else:
                self.status = int(st)
                if not 400 <= self.status <= 599:
                    raise ValueError("status must be 4xx or 5xx")
        elif self.kind == "huge" and pos:
            if pos[0] == "length":
                self.length = True
                pos.pop(0)
            elif pos[0].isdigit():
                self.mb = int(pos.pop(0))
                if pos and pos[0] == "length":
                    self.length = True
                    pos.pop(0)
        if pos:
            raise ValueError("unexpected argument " + pos[0])
        if self.count < 1:
            raise ValueError("count must be at least 1")

    def matches(self, method, path):
        if self.method and self.method != method:
            return False
        if self.path and not path.startswith(self.path):
            return False
        return True

    def describe(self):
        return {"kind": self.kind, "count": self.count,
                "status": self.status, "retry_after": self.retry_after,
                "method": self.method, "path": self.path}


class Emulator:
    def __init__(self, state_dir):
        self.dir = state_dir
        self.state_path = os.path.join(state_dir, "state.json")
        self.log_path = os.path.join(state_dir, "requests.jsonl")
        self.lock = threading.RLock()
        self.faults = []
        self.latency_ms = 0
        self.log = []
        self.conn_seq = 0
        self.port = None
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                self.state = json.load(f)
        else:
            self.state = {}
        st = self.state
        st.setdefault("settings", {})
        for k, v in DEFAULT_SETTINGS.items():
            st["settings"].setdefault(k, v)
        st.setdefault("cloud", {}).setdefault("users", [])
        st.setdefault("dc", {}).setdefault("users", [])
        st["dc"].setdefault("next_id", 1)
        for u in st["cloud"]["users"]:
            for k in ("api_tokens", "oauth_tokens", "app_passwords", "keys"):
                u.setdefault(k, [])
        for u in st["dc"]["users"]:
            for k in ("tokens", "keys"):
                u.setdefault(k, [])
            u.setdefault("admin", False)
        self.save()
        open(self.log_path, "a").close()

    # --- state -------------------------------------------------------

    @property
    def settings(self):
        return self.state["settings"]

    def now(self):
        return time.time() + float(self.settings.get("clock_offset", 0))

    def save(self):
        tmp = "%s.tmp.%d.%d" % (self.state_path, os.getpid(),
                                threading.get_ident())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)

    # --- request log -------------------------------------------------

    def record(self, entry):
        entry.setdefault("ts", round(time.time(), 6))
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            self.log.append(entry)
            with open(self.log_path, "a") as f:
                f.write(line + "\n")

    def new_conn(self):
        with self.lock:
            self.conn_seq += 1
            return self.conn_seq

    # --- faults ------------------------------------------------------

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.count > 0 and f.matches(method, path):
                    f.count -= 1
                    if f.count == 0:
                        self.faults.remove(f)
                    return f
        return None

    def control(self, line):
        words = line.split()
        if not words:
            return "error empty command"
        cmd = words[0]
        try:
            if cmd == "ping":
                return "ok"
            if cmd == "latency":
                ms = int(words[1])
                if ms < 0:
                    raise ValueError("negative latency")
                self.latency_ms = ms
                return "ok"
            if cmd in Fault.KINDS:
                f = Fault(words)
                with self.lock:
                    self.faults.append(f)
                return "ok"
            if cmd == "reset":
                with self.lock:
                    self.faults = []
                    self.latency_ms = 0
                return "ok"
            if cmd == "faults":
                with self.lock:
                    return json.dumps([f.describe() for f in self.faults])
            if cmd == "log":
                with self.lock:
                    return json.dumps(self.log, sort_keys=True)
            if cmd == "clear-log":
                with self.lock:
                    self.log = []
                    open(self.log_path, "w").close()
                return "ok"
            if cmd == "conns":
                with self.lock:
                    return str(sum(1 for e in self.log
                                   if e.get("event") == "connect"))
            if cmd == "keys":
                return json.dumps(self.key_summary(), sort_keys=True)
            if cmd == "set":
                if len(words) != 3 or words[1] not in DEFAULT_SETTINGS:
                    raise ValueError("set <setting> <json value>")
                try:
                    v = json.loads(words[2])
                except ValueError:
                    v = words[2]
                with self.lock:
                    self.settings[words[1]] = v
                    self.save()
                return "ok"
            if cmd == "clock":
                with self.lock:
                    if len(words) > 1:
                        self.settings["clock_offset"] = float(
                            self.settings.get("clock_offset", 0)) + \
                            float(words[1])
                        self.save()
                    return str(self.settings["clock_offset"])
            if cmd == "quit":
                return "ok"
        except (ValueError, IndexError) as e:
            return "error " + str(e)
        return "error unknown command " + cmd

    def key_summary(self):
        with self.lock:
            out = {"cloud": [], "dc": []}
            for u in self.state["cloud"]["users"]:
                for k in u["keys"]:
                    out["cloud"].append({"user": u["account_id"],
                                         "uuid": k["uuid"],
                                         "key": k["key"],
                                         "label": k["label"],
                                         "fingerprint": k["fingerprint"],
                                         "expires_on": k["expires_on"]})
            for u in self.state["dc"]["users"]:
                for k in u["keys"]:
                    out["dc"].append({"user": u["slug"], "id": k["id"],
                                      "text": k["text"],
                                      "label": k.get("label"),
                                      "fingerprint": k["fingerprint"],
                                      "expiryDays": k.get("expiryDays")})
            return out

    # --- authentication ----------------------------------------------

    @staticmethod
    def parse_auth(headers):
        """-> (scheme, user, secret) or (None, None, None)."""
        h = headers.get("Authorization")
        if not h:
            return None, None, None
        parts = h.strip().split(None, 1)
        if len(parts) != 2:
            return "malformed", None, None
        scheme, cred = parts[0].lower(), parts[1].strip()
        if scheme == "basic":
            try:
                dec = base64.b64decode(cred, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return "malformed", None, None
            if ":" not in dec:
                return "malformed", None, None
            user, pw = dec.split(":", 1)
            return "basic", user, pw
        if scheme == "bearer":
            return "bearer", None, cred
        return "malformed", None, None

    def token_live(self, t):
        """A token's optional "expires" (ISO-8601 text) has not passed."""
        exp = t.get("expires")
        return exp is None or self.now() < parse_iso(exp)

    def cloud_auth(self, headers):
        """-> (user or None, kind, scopes, error Reply or None)."""
        scheme, name, secret = self.parse_auth(headers)
        if scheme is None:
            return None, "none", None, None
        if scheme == "malformed":
            return None, "malformed", None, cloud_error(
                401, CLOUD_STATUS_TEXT[401])
        users = self.state["cloud"]["users"]
        if scheme == "bearer":
            for u in users:
                for t in u["oauth_tokens"]:
                    if secrets.compare_digest(t["token"], secret):
                        if not self.token_live(t):
                            return None, "bearer-expired", None, cloud_error(
                                401, "Access token expired.")
                        sc = set(t.get("scopes", []))
                        for s in list(sc):
                            sc.update(OAUTH_IMPLIES.get(s, []))
                        return u, "bearer", ("oauth", sc), None
            return None, "bearer-invalid", None, cloud_error(
                401, CLOUD_STATUS_TEXT[401])
        for u in users:
            if name.lower() != u["email"].lower():
                continue
            for t in u["api_tokens"]:
                if secrets.compare_digest(t["token"], secret):
                    if not self.token_live(t):
                        return None, "basic-api-token-expired", None, \
                            cloud_error(401, CLOUD_STATUS_TEXT[401])
                    return u, "basic-api-token", \
                        ("api", set(t.get("scopes", []))), None
        for u in users:
            if name.lower() not in (u["email"].lower(),
                                    u["nickname"].lower()):
                continue
            for pw in u["app_passwords"]:
                if secrets.compare_digest(pw, secret):
                    return None, "basic-app-password", None, cloud_error(
                        401, "App passwords are no longer supported: they "
                        "were removed from Bitbucket Cloud on 28 July 2026. "
                        "Use an API token (your Atlassian account e-mail "
                        "and the token) or OAuth 2 instead.")
        return None, "basic-invalid", None, cloud_error(
            401, CLOUD_STATUS_TEXT[401])

    def dc_auth(self, headers):
        """-> (user or None, kind, error Reply or None)."""
        scheme, name, secret = self.parse_auth(headers)
        bad = dc_error(401, "Authentication failed. Please check your "
                       "credentials and try again.",
                       "com.atlassian.bitbucket.auth."
                       "IncorrectPasswordAuthenticationException")
        if scheme is None:
            return None, "none", None
        if scheme == "malformed":
            return None, "malformed", bad
        users = self.state["dc"]["users"]
        if scheme == "bearer":
            for u in users:
                for t in u["tokens"]:
                    if secrets.compare_digest(t["token"], secret):
                        if not self.token_live(t):
                            return None, "bearer-expired", bad
                        return u, "bearer", None
            return None, "bearer-invalid", bad
        for u in users:
            if name.lower() not in (u["slug"].lower(), u["name"].lower()):
                continue
            if u.get("password") and secrets.compare_digest(
                    u["password"], secret):
                return u, "basic-password", None
            for t in u["tokens"]:
                if t.get("kind", "personal") == "personal" and \
                        secrets.compare_digest(t["token"], secret):
                    if not self.token_live(t):
                        return None, "basic-token-expired", bad
                    return u, "basic-token", None
        return None, "basic-invalid", bad

    # --- Cloud -------------------------------------------------------

    def cloud_scope_error(self, auth, op):
        kind, granted = auth
        api_req, oauth_req = CLOUD_SCOPES[op]
        if kind == "api":
            missing = [s for s in api_req if s not in granted]
            required = api_req
        else:
            missing = [] if oauth_req in granted else [oauth_req]
            required = [oauth_req]
        if not missing:
            return None
        return cloud_error(
            403, "Your credentials lack one or more required privilege "
            "scopes.", detail={"required": required,
                               "granted": sorted(granted)})

    def cloud_account(self, u, base):
        self_href = "%s/2.0/users/%s" % (base, u["uuid"])
        return {"type": "user", "uuid": u["uuid"],
                "account_id": u["account_id"],
                "display_name": u["display_name"],
                "nickname": u["nickname"],
                "links": {"self": {"href": self_href},
                          "html": {"href": "%s/%s/" % (base, u["uuid"])},
                          "avatar": {"href": "%s/account/%s/avatar/" % (
                              base, u["uuid"])}}}

    def cloud_key_json(self, u, k, base):
        return {"type": "ssh_key", "uuid": k["uuid"], "key": k["key"],
                "comment": k["comment"], "label": k["label"],
                "created_on": k["created_on"], "last_used": k["last_used"],
                "expires_on": k["expires_on"],
                "fingerprint": k["fingerprint"],
                "owner": self.cloud_account(u, base),
                "links": {"self": {"href": "%s/2.0/users/%s/ssh-keys/%s" % (
                    base, u["uuid"], k["uuid"].strip("{}"))}}}

    def cloud_find_user(self, sel):
        for u in self.state["cloud"]["users"]:
            if sel == u["account_id"] or sel.lower() == u["uuid"].lower():
                return u
        return None

    def cloud(self, method, segs, query, body, headers, base):
        """segs: path segments after /2.0, percent-decoded."""
        if segs == ["user"]:
            ops = {"GET": "user"}
        elif len(segs) == 3 and segs[0] == "users" and segs[2] == "ssh-keys":
            ops = {"GET": "list", "POST": "add"}
        elif len(segs) == 4 and segs[0] == "users" and segs[2] == "ssh-keys":
            ops = {"GET": "get", "PUT": "put", "DELETE": "delete"}
        else:
            return None, cloud_error(404, "Resource not found")
        user, kind, scopes, err = self.cloud_auth(headers)
        if err:
            return kind, err
        if method not in ops:
            return kind, cloud_error(405, "Method not allowed",
                                     extra=None)
        op = ops[method]
        if user is None:
            return kind, cloud_error(401, CLOUD_STATUS_TEXT[401])
        err = self.cloud_scope_error(scopes, op)
        if err:
            return kind, err
        if op == "user":
            acct = self.cloud_account(user, base)
            acct.update({"account_status": "active",
                         "created_on": user.get("created_on",
                                                "2020-01-01T00:00:00"
                                                ".000000+00:00"),
                         "has_2fa_enabled": False, "is_staff": False})
            return kind, Reply(200, acct)
        target = self.cloud_find_user(segs[1])
        if target is None:
            return kind, cloud_error(404, "User %s not found" % segs[1])
        if target is not user:
            return kind, cloud_error(
                403, "You do not have access to this user's SSH keys.")
        if op == "list":
            return kind, self.cloud_list(target, segs[1], query, base)
        if op == "add":
            return kind, self.cloud_add(target, query, body, base)
        kid = segs[3].strip().strip("{}").lower()
        key = None
        for k in target["keys"]:
            if k["uuid"].strip("{}").lower() == kid:
                key = k
        if key is None:
            return kind, cloud_error(404, "SSH key %s not found" % segs[3])
        if op == "get":
            return kind, Reply(200, self.cloud_key_json(target, key, base))
        if op == "delete":
            target["keys"].remove(key)
            self.save()
            return kind, Reply(204)
        # PUT: the label is the only updatable field (reference 5.2, 8).
        obj, err = self.json_body(body, cloud=True)
        if err:
            return kind, err
        if "label" in obj:
            if not isinstance(obj["label"], str):
                return kind, cloud_error(400, "label must be a string",
                                         fields={"label": ["Not a string"]})
            key["label"] = obj["label"]
            self.save()
        return kind, Reply(200, self.cloud_key_json(target, key, base))

    @staticmethod
    def json_body(body, cloud):
        try:
            obj = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict):
            if cloud:
                return None, cloud_error(400, "Bad request: the body must "
                                         "be a JSON object")
            return None, dc_error(400, "The request body is not valid "
                                  "JSON.", None)
        return obj, None

    def cloud_list(self, u, sel, query, base):
        def intarg(name, default):
            v = query.get(name)
            if v is None:
                return default
            if not re.fullmatch(r"\d+", v):
                raise ValueError(name)
            return int(v)
        try:
            pagelen = intarg("pagelen",
                             int(self.settings["cloud_default_pagelen"]))
            page = intarg("page", 1)
        except ValueError as e:
            return cloud_error(400, "Invalid %s" % e)
        if page < 1:
            return cloud_error(400, "Invalid page")
        pagelen = max(1, min(pagelen, int(self.settings["cloud_max_pagelen"])))
        keys = sorted(u["keys"], key=lambda k: (k["created_on"], k["uuid"]))
        vals = keys[(page - 1) * pagelen:page * pagelen]
        out = {"pagelen": pagelen, "size": len(keys), "page": page,
               "values": [self.cloud_key_json(u, k, base) for k in vals]}

        def link(p):
            q = dict(query)
            q["page"] = str(p)
            return "%s/2.0/users/%s/ssh-keys?%s" % (
                base, urllib.parse.quote(sel, safe=""),
                urllib.parse.urlencode(q))
        if page * pagelen < len(keys):
            out["next"] = link(page + 1)
        if page > 1:
            out["previous"] = link(page - 1)
        return Reply(200, out)

    def key_in_use(self, flavour, blob):
        for u in self.state[flavour]["users"]:
            for k in u["keys"]:
                if k["_blob"] == blob:
                    return u, k
        return None, None

    def cloud_add(self, u, query, body, base):
        obj, err = self.json_body(body, cloud=True)
        if err:
            return err

        def bad(msg):
            return cloud_error(400, msg, fields={"key": [msg]})
        text = obj.get("key")
        if not isinstance(text, str) or not text.strip():
            return bad("key: this field is required")
        label = obj.get("label", "")
        if label is None:
            label = ""
        if not isinstance(label, str):
            return cloud_error(400, "label must be a string",
                               fields={"label": ["Not a string"]})
        try:
            k = sshkeys.parse(text)
        except sshkeys.KeyError_ as e:
            return bad("Invalid SSH key: %s" % e)
        if k.sk and not self.settings["cloud_accepts_sk"]:
            return bad("Invalid SSH key: unsupported key type %r" % k.type)
        if not sshkeys.length_ok(k):
            return bad("Invalid SSH key: %s keys must be at least %d bits"
                       % (k.algorithm, sshkeys.MIN_BITS[k.algorithm]))
        expires = None
        if "expires_on" in query:
            try:
                ets = parse_iso(query["expires_on"])
            except ValueError:
                return cloud_error(400, "Invalid expires_on",
                                   fields={"expires_on": [
                                       "Not a valid date or date-time"]})
            if ets <= self.now():
                return cloud_error(400, "expires_on must be in the future",
                                   fields={"expires_on": [
                                       "Must be in the future"]})
            expires = iso(ets)
        owner, _ = self.key_in_use("cloud", k.b64)
        if owner is not None:
            return bad("Someone has already registered that SSH key.")
        rec = {"uuid": "{%s}" % uuidlib.uuid4(), "key": k.text,
               "comment": k.comment, "label": label,
               "created_on": iso(self.now()), "last_used": None,
               "expires_on": expires, "fingerprint": k.fingerprint,
               "_blob": k.b64}
        u["keys"].append(rec)
        self.save()
        return Reply(201, self.cloud_key_json(u, rec, base))

    # --- Data Center -------------------------------------------------

    def dc_key_json(self, k):
        out = {"id": k["id"], "text": k["text"],
               "algorithmType": k["algorithmType"],
               "bitLength": k["bitLength"], "createdDate": k["createdDate"],
               "fingerprint": k["fingerprint"]}
        for f in ("label", "expiryDays", "lastAuthenticated"):
            if k.get(f) is not None:
                out[f] = k[f]
        return out

    def dc_find_user(self, name):
        for u in self.state["dc"]["users"]:
            if name.lower() in (u["slug"].lower(), u["name"].lower()):
                return u
        return None

    def dc(self, method, segs, query, body, headers):
        """segs: path segments after /rest, percent-decoded."""
        s = self.settings
        if len(segs) == 3 and segs[0] == "api" and \
                segs[1] in ("1.0", "latest") and \
                segs[2] == "application-properties":
            user, kind, err = self.dc_auth(headers)
            if err:
                return kind, err
            if method != "GET":
                return kind, dc_error(405, "Method not allowed")
            return kind, Reply(200, {
                "version": str(s["dc_version"]),
                "buildNumber": str(s["dc_build_number"]),
                "buildDate": "1700000000000",
                "displayName": "Bitbucket"})
        if len(segs) < 3 or segs[0] != "ssh" or \
                segs[1] not in ("1.0", "latest") or \
                segs[2] not in ("keys", "settings") or \
                (segs[2] == "settings" and len(segs) != 3) or len(segs) > 4:
            return None, dc_error(404, "Not found")
        user, kind, err = self.dc_auth(headers)
        if err:
            return kind, err
        denied = dc_error(401, "You are not permitted to access this "
                          "resource", "com.atlassian.bitbucket."
                          "AuthorisationException")
        if user is None:
            return kind, denied
        if segs[2] == "settings":
            if method != "GET":
                return kind, dc_error(405, "Method not allowed")
            port = int(s["ssh_port"])
            out = {"enabled": True, "port": port,
                   "baseUrl": "ssh://%s:%d" % (s["ssh_host"], port),
                   "accessKeysEnabled": True}
            if s.get("ssh_fingerprint"):
                out["fingerprint"] = s["ssh_fingerprint"]
            return kind, Reply(200, out)
        if len(segs) == 4:
            if method not in ("GET", "DELETE"):
                return kind, dc_error(405, "Method not allowed")
            if not re.fullmatch(r"\d{1,9}", segs[3]):
                return kind, dc_error(404, "No SSH key exists with ID %s."
                                      % segs[3], "com.atlassian.bitbucket."
                                      "ssh.NoSuchSshKeyException")
            kid = int(segs[3])
            for u in self.state["dc"]["users"]:
                for k in u["keys"]:
                    if k["id"] == kid:
                        if u is not user and not user["admin"]:
                            return kind, denied
                        if method == "GET":
                            return kind, Reply(200, self.dc_key_json(k))
                        u["keys"].remove(k)
                        self.save()
                        return kind, Reply(204)
            if method == "DELETE":
                return kind, Reply(204)
            return kind, dc_error(404, "No SSH key exists with ID %d." % kid,
                                  "com.atlassian.bitbucket.ssh."
                                  "NoSuchSshKeyException")
        # /keys
        target = user
        other = query.get("user", query.get("userName"))
        if other is not None:
            if not user["admin"]:
                if other.lower() not in (user["slug"].lower(),
                                         user["name"].lower()):
                    return kind, denied
            target = self.dc_find_user(other)
            if target is None:
                return kind, dc_error(404, "User %s does not exist." % other,
                                      "com.atlassian.bitbucket.user."
                                      "NoSuchUserException")
        if method == "GET":
            return kind, self.dc_list(target, query)
        if method == "POST":
            return kind, self.dc_add(target, body)
        if method == "DELETE":
            target["keys"] = []
            self.save()
            return kind, Reply(204)
        return kind, dc_error(405, "Method not allowed")

    def dc_list(self, u, query):
        s = self.settings
        try:
            start = int(query.get("start", "0"))
            limit = int(query.get("limit", str(s["dc_default_limit"])))
        except ValueError:
            return dc_error(400, "start and limit must be integers")
        start = max(0, start)
        limit = max(1, min(limit, int(s["dc_max_limit"])))
        keys = sorted(u["keys"], key=lambda k: k["id"])
        vals = keys[start:start + limit]
        last = start + limit >= len(keys)
        out = {"size": len(vals), "limit": limit, "isLastPage": last,
               "start": start, "values": [self.dc_key_json(k) for k in vals]}
        if not last:
            out["nextPageStart"] = start + len(vals)
        return Reply(200, out)

    def dc_add(self, u, body):
        obj, err = self.json_body(body, cloud=False)
        if err:
            return err
        invalid = dc_error(400, "The SSH key is not a valid RSA/DSA/ECDSA/"
                           "Ed25519 key of a supported length.", None,
                           context="text")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            return dc_error(400, "The SSH key text is required.", None,
                            context="text")
        label = obj.get("label")
        if label is not None and not isinstance(label, str):
            return dc_error(400, "label must be a string", None,
                            context="label")
        expiry = obj.get("expiryDays")
        if expiry is not None and (isinstance(expiry, bool) or
                                   not isinstance(expiry, int) or
                                   expiry < 1):
            return dc_error(400, "expiryDays must be a positive number of "
                            "days.", None, context="expiryDays")
        try:
            k = sshkeys.parse(text)
        except sshkeys.KeyError_:
            return invalid
        if k.sk and version_tuple(self.settings["dc_version"]) < (8, 13, 0):
            return invalid
        if not sshkeys.length_ok(k):
            return invalid
        owner, _ = self.key_in_use("dc", k.b64)
        if owner is not None:
            return dc_error(409, "This SSH key already exists on the "
                            "system.", "com.atlassian.bitbucket.ssh."
                            "DuplicateSshKeyException")
        with self.lock:
            kid = self.state["dc"]["next_id"]
            self.state["dc"]["next_id"] = kid + 1
        now = self.now()
        rec = {"id": kid, "text": " ".join(text.split()),
               "label": label if label else (k.comment or None),
               "algorithmType": k.algorithm, "bitLength": k.bits,
               "createdDate": datetime.datetime.fromtimestamp(
                   now, datetime.timezone.utc).strftime(
                       "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
                           int(now * 1000) % 1000),
               "_created": now, "expiryDays": expiry,
               "fingerprint": k.fingerprint, "lastAuthenticated": None,
               "_blob": k.b64}
        u["keys"].append(rec)
        self.save()
        return Reply(201, self.dc_key_json(rec))

    # --- dispatch ----------------------------------------------------

    def handle(self, method, rawpath, body, headers, base):
        """-> (auth kind, Reply)."""
        split = urllib.parse.urlsplit(rawpath)
        query = dict(urllib.parse.parse_qsl(split.query,
                                            keep_blank_values=True))
        segs = [urllib.parse.unquote(p) for p in split.path.split("/")]
        if segs[:1] == [""]:
            segs = segs[1:]
        fl = self.settings["flavours"]
        with self.lock:
            if segs[:1] == ["2.0"] and "cloud" in fl:
                return self.cloud(method, segs[1:], query, body, headers,
                                  base)
            if segs[:1] == ["rest"] and "dc" in fl:
                return self.dc(method, segs[1:], query, body, headers)
        return None, Reply(404, b"Not found\n",
                           {"Content-Type": "text/plain"})

    def auth_kind(self, path, headers):
        """The credential kind a request carries (no side effects)."""
        with self.lock:
            if path.startswith("/2.0/"):
                return self.cloud_auth(headers)[1]
            if path.startswith("/rest/"):
                return self.dc_auth(headers)[1]
        return self.parse_auth(headers)[0] or "none"

    def fault_reply(self, fault, path):
        st = fault.status
        hdr = {}
        if fault.retry_after is not None:
            hdr["Retry-After"] = str(fault.retry_after)
        if fault.body == "empty":
            return Reply(st, None, hdr)
        if fault.body == "html":
            hdr["Content-Type"] = "text/html"
            return Reply(st, ("<html><body><h1>%d</h1></body></html>\n"
                              % st).encode(), hdr)
        if path.startswith("/rest"):
            return dc_error(st, DC_STATUS_TEXT.get(
                st, "Request failed with status %d." % st), None,
                headers=hdr)
        r = cloud_error(st, CLOUD_STATUS_TEXT.get(
            st, "Request failed with status %d." % st))
        r.headers.update(hdr)
        return r


_local = threading.local()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bbemu"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_any(self):
        emu = self.server.emu
        t0 = time.monotonic()
        entry = {"event": "request", "conn": _local.conn,
                 "method": self.command, "path": self.path,
                 "status": None, "fault": None, "auth": None,
                 "committed": False}
        length = self.headers.get("Content-Length")
        body = b""
        if self.headers.get("Transfer-Encoding"):
            # libcurl sends Content-Length for CURLOPT_POSTFIELDS; a
            # chunked request body is not supported here.
            self.close_connection = True
            self.send_reply(Reply(411, b"Content-Length required\n",
                                  {"Content-Type": "text/plain"}), entry, t0)
            return
        try:
            n = int(length) if length else 0
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self.send_reply(Reply(413 if n > 0 else 400,
                                  b"bad Content-Length\n",
                                  {"Content-Type": "text/plain"}), entry, t0)
            return
        if n:
            body = self.rfile.read(n)
        path = urllib.parse.urlsplit(self.path).path
        fault = emu.take_fault(self.command, path)
        if fault is not None:
            entry["fault"] = fault.kind
        if fault is not None and fault.kind in ("fail", "drop"):
            entry["auth"] = emu.auth_kind(path, self.headers)
            if fault.kind == "drop":
                self.drop(entry, t0)
            else:
                self.send_reply(emu.fault_reply(fault, path), entry, t0)
            return
        host = self.headers.get("Host") or "127.0.0.1:%d" % emu.port
        try:
            kind, reply = emu.handle(self.command, self.path, body,
                                     self.headers, "https://" + host)
        except Exception:
            # An emulator bug: say so loudly (bbenv fails the test).
            traceback.print_exc()
            sys.stderr.flush()
            entry["error"] = traceback.format_exc(limit=3)[-500:]
            kind, reply = None, Reply(500, b"bbemu internal error\n",
                                      {"Content-Type": "text/plain"})
        entry["auth"] = kind or "none"
        entry["committed"] = True
        if fault is None:
            self.send_reply(reply, entry, t0)
        elif fault.kind == "fail-after-commit":
            if fault.status == "drop":
                self.drop(entry, t0)
            else:
                self.send_reply(emu.fault_reply(fault, path), entry, t0)
        elif fault.kind == "truncate":
            self.send_truncated(reply, entry, t0)
        elif fault.kind == "malformed":
            b = reply.body.rstrip()
            reply.body = (b[:-1] if b else b'{"values": [') + b",]"
            reply.headers["Content-Type"] = "application/json; charset=utf-8"
            if reply.status == 204:
                reply.status = 200
            self.send_reply(reply, entry, t0)
        elif fault.kind == "huge":
            self.send_huge(fault, entry, t0)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_any

    def wait_latency(self):
        ms = self.server.emu.latency_ms
        if ms:
            time.sleep(ms / 1000.0)

    def finish_entry(self, entry, t0):
        entry["ms"] = round((time.monotonic() - t0) * 1000, 3)
        self.server.emu.record(entry)

    def drop(self, entry, t0):
        self.wait_latency()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.finish_entry(entry, t0)

    def send_headers(self, status, headers, length):
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for k, v in headers.items():
            self.send_header(k, v)
        if length is not None and status != 204:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_reply(self, reply, entry, t0):
        self.wait_latency()
        entry["status"] = reply.status
        try:
            self.send_headers(reply.status, reply.headers, len(reply.body))
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        self.finish_entry(entry, t0)

    def send_truncated(self, reply, entry, t0):
        self.wait_latency()
        body = reply.body or b'{"type": "error", "error": {"message": ""}}'
        status = reply.status if reply.body else 200
        entry["status"] = status
        self.close_connection = True
        try:
            self.send_headers(status, {"Content-Type":
                                       "application/json; charset=utf-8"},
                              len(body))
            self.wfile.write(body[:max(1, len(body) // 2)])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.finish_entry(entry, t0)

    def send_huge(self, fault, entry, t0):
        self.wait_latency()
        entry["status"] = 200
        total = fault.mb << 20
        item = b'{"key": "' + b"A" * 1000 + b'"},'
        head = b'{"pagelen": 10, "values": ['
        tail = b'{}]}'
        chunk = item * 64
        nchunks = max(1, (total - len(head) - len(tail)) // len(chunk))
        length = len(head) + nchunks * len(chunk) + len(tail)
        hdr = {"Content-Type": "application/json; charset=utf-8"}
        if not fault.length:
            hdr["Transfer-Encoding"] = "chunked"
        sent = 0
        self.close_connection = True
        try:
            self.send_headers(200, hdr, length if fault.length else None)

            def out(b):
                if fault.length:
                    self.wfile.write(b)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            out(head)
            for _ in range(nchunks):
                out(chunk)
                sent += len(chunk)
            out(tail)
            if not fault.length:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            entry["aborted_after"] = sent
        self.finish_entry(entry, t0)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 64

    def __init__(self, emu, port, ctx):
        self.emu = emu
        self.ctx = ctx
        super().__init__(("127.0.0.1", port), Handler)

    def finish_request(self, request, client_address):
        request.settimeout(60)
        # Headers and body leave in separate writes: without NODELAY,
        # Nagle and the client's delayed ACK add ~40 ms to every response
        # (real HTTPS servers set it too).
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.emu.new_conn()
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.emu.record({"event": "handshake-failed", "conn": conn,
                             "error": str(e)[:200]})
            return
        self.emu.record({"event": "connect", "conn": conn,
                         "tls_version": tls.version(),
                         "tls_resumed": bool(tls.session_reused)})
        _local.conn = conn
        try:
            Handler(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        except Exception:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        traceback.print_exc()
        sys.stderr.flush()


def serve_control(emu, path, stop):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(8)

    def client(c):
        with c, c.makefile("rwb") as f:
            for line in f:
                cmd = line.decode("utf-8", "replace").strip()
                if not cmd:
                    continue
                reply = emu.control(cmd)
                f.write(reply.encode() + b"\n")
                f.flush()
                if cmd == "quit":
                    stop()
                    return

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=client, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return srv


def die_with_parent():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl")
    if os.getppid() == 1:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--control")
    ap.add_argument("--fault", action="append", default=[],
                    help="a control command run at start (repeatable)")
    ap.add_argument("--die-with-parent", action="store_true")
    a = ap.parse_args()
    if a.die_with_parent:
        die_with_parent()
    emu = Emulator(a.state)
    for cmd in a.fault:
        r = emu.control(cmd)
        if r.startswith("error"):
            sys.exit("bbemu: --fault %r: %s" % (cmd, r))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    server = Server(emu, a.port, ctx)
    emu.port = server.server_address[1]

    def stop():
        threading.Thread(target=server.shutdown, daemon=True).start()
    ctl = serve_control(emu, a.control, stop) if a.control else None

    def on_term(signum, frame):
        stop()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    with open(os.path.join(a.state, "port"), "w") as f:
        f.write("%d\n" % emu.port)
    sys.stdout.write("READY port=%d\n" % emu.port)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if ctl is not None:
            ctl.close()
            try:
                os.unlink(a.control)
            except OSError:
                pass


if __name__ == "__main__":
    main()
