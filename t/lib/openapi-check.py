#!/usr/bin/python3
# openapi-check.py DOC LOG...: checks every logged answer (one JSON object
# a line: method, url, status, ctype, body) against the OpenAPI document:
# its path and method are documented, its status is among the
# operation's responses, and its body validates against that response's
# schema (JSON Schema 2020-12, python3-jsonschema).  Answers that are not
# taskgate's (no application/json: a web server's own error page) and
# CORS preflights are skipped.  Prints "checked N skipped M" and one line
# per failure; exits 1 when any failed.
import json, re, sys, warnings
from urllib.parse import urlsplit, unquote
import jsonschema

warnings.simplefilter('ignore', DeprecationWarning)

doc = json.load(open(sys.argv[1]))
resolver = jsonschema.RefResolver.from_schema(doc)
paths = []
for tmpl, ops in doc["paths"].items():
    rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
    paths.append((re.compile(rx), tmpl, ops))
checked = skipped = failed = 0
seen = set()
for logf in sys.argv[2:]:
    for line in open(logf, encoding="utf-8", errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        m, st, ct, body = e["method"].lower(), int(e["status"]), e.get("ctype") or "", e.get("body") or ""
        path = urlsplit(e["url"]).path
        i = path.find("/api")
        path = path[i:] if i >= 0 else path
        if m == "options" or st == 599 or (st not in (204, 304, 307) and not ct.startswith("application/json")):
            skipped += 1
            continue
        checked += 1
        why = None
        # The route is found on the decoded path (%2F is a '/'), and an
        # id may hold an encoded '/': the first template that matches
        # with this method, else the first that matches at all.
        op = None
        for cand in (unquote(path), path):
            for rx, tmpl, ops in paths:
                if rx.match(cand) and m in ops:
                    op = ops[m]
                    break
            if op is not None:
                break
        if op is None:
            for rx, tmpl, ops in paths:
                if rx.match(unquote(path)) or rx.match(path):
                    op = next(iter(ops.values()))
                    break
        if op is None:
            if st not in (404, 307, 414, 401, 403, 500):
                why = "undocumented path"
            op = doc["paths"]["/api/health"]["get"]
        if why is None:
            r = op["responses"].get(str(st))
            if r is None:
                why = "undocumented status %d" % st
            elif "content" not in r or m == "head":
                if body.strip():
                    why = "body where none is documented"
            else:
                try:
                    v = json.loads(body)
                    jsonschema.Draft202012Validator(r["content"]["application/json"]["schema"],
                        resolver=resolver).validate(v)
                except ValueError as x:
                    why = "not JSON: %s" % x
                except jsonschema.ValidationError as x:
                    why = "schema: %s at %s" % (x.message[:200], list(x.absolute_path))
        if why:
            key = (m, path, st, why)
            if key not in seen:
                seen.add(key)
                print("FAIL %s %s -> %d: %s" % (m.upper(), e["url"][:200], st, why))
            failed += 1
print("checked %d skipped %d failed %d" % (checked, skipped, failed))
sys.exit(1 if failed else 0)
