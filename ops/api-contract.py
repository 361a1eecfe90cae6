#!/usr/bin/env python3
"""Checks the local API against its contract, Docs/openapi.yaml.

1. The document is a valid OpenAPI 3.0 document (openapi-spec-validator).
2. Its paths and methods are exactly the daemon's route table (--routes, from APIRouter.routes).
3. Every route of a running daemon (--socket) answers with a status the document lists and a
   body that matches that status's schema; properties the document does not declare are
   errors too, so a field added to the code but not to the document fails here.

Needs: pip install openapi-spec-validator (brings jsonschema and openapi-schema-validator).
Exit status: 0 the contract holds; 1 it does not (each problem on its own line); 2 usage or a
missing module.
"""
import argparse
import copy
import json
import socket
import sys

try:
    import yaml
    from openapi_spec_validator import validate
    from openapi_schema_validator import OAS30Validator
except ImportError as error:
    print(f"api-contract: {error}; run: pip install openapi-spec-validator", file=sys.stderr)
    sys.exit(2)


def request(path, method, sock_path, read_stream=False, timeout=5.0):
    """One HTTP/1.1 request on the Unix socket: (status, content type, body bytes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if read_stream and b"\r\n\r\n" in data:
                break  # a stream: the status and headers are enough, the lines are read below
    except socket.timeout:
        pass
    if read_stream:
        # Give the stream a moment to send a line; an idle node may have nothing to say.
        s.settimeout(1.5)
        try:
            data += s.recv(65536)
        except socket.timeout:
            pass
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return status, headers.get("content-type", ""), body


def dechunk(body):
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def resolve(node, root):
    """The schema with every $ref replaced by its target (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, root)
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def strict(schema):
    """Forbids undeclared properties everywhere, so the document cannot lag behind the code."""
    schema = copy.deepcopy(schema)
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for key, value in list(schema.items()):
            if isinstance(value, (dict, list)):
                schema[key] = strict(value)
    elif isinstance(schema, list):
        schema = [strict(v) for v in schema]
    return schema


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default="Docs/openapi.yaml")
    parser.add_argument("--socket", help="a running overlayd's API socket; without it only the document is checked")
    parser.add_argument("--routes", help="the route table, 'METHOD PATH' separated by commas")
    args = parser.parse_args()

    document = yaml.safe_load(open(args.spec))
    validate(document)
    print(f"{args.spec}: a valid OpenAPI {document['openapi']} document")
    problems = []
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    if args.routes:
        table = {tuple(r.strip().split(" ", 1)) for r in args.routes.split(",")}
        for method, path in sorted(table - documented):
            problems.append(f"{method} {path} is a route of the daemon but not in {args.spec}")
        for method, path in sorted(documented - table):
            problems.append(f"{method} {path} is in {args.spec} but not a route of the daemon")

    if args.socket:
        resolved = resolve(document, document)
        checked = 0
        for path, ops in sorted(resolved["paths"].items()):
            for method, operation in ops.items():
                stream = "application/x-ndjson" in json.dumps(operation)
                status, ctype, body = request(path, method.upper(), args.socket, read_stream=stream)
                answer = operation["responses"].get(str(status))
                if answer is None:
                    problems.append(f"{method.upper()} {path} answered {status}, which the document does not list")
                    continue
                media = ctype.split(";")[0].strip()
                content = answer.get("content", {})
                if media not in content:
                    problems.append(f"{method.upper()} {path} answered {media}, the document says {', '.join(content)}")
                    continue
                schema = strict(content[media]["schema"])
                if media == "application/json":
                    items = [json.loads(body)]
                elif media == "application/x-ndjson":
                    items = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                else:
                    items = [body.decode()]
                for item in items:
                    for error in OAS30Validator(schema).iter_errors(item):
                        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
                        problems.append(f"{method.upper()} {path} {status}: {where}: {error.message}")
                checked += 1
                print(f"{method.upper()} {path}: {status} {media}, {len(items)} body(ies) checked")
        # An error body too.
        status, ctype, body = request("/v1/no-such-route", "GET", args.socket)
        error_schema = strict(resolved["components"]["schemas"]["ErrorResponse"])
        for error in OAS30Validator(error_schema).iter_errors(json.loads(body)):
            problems.append(f"404 body: {error.message}")
        print(f"{checked} routes and the 404 error checked against live responses")

    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
