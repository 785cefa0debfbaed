#!/usr/bin/env python3
"""Make a copy of one published AWS SDK for Rust crate that holds only the
operations sitedeploy calls.

Why: aws-sdk-ec2 holds all ~800 EC2 operations in 1.2 million lines, and its
single rustc process was most of a cold build (TECHNICAL.md, "Build time").
AWS's own answer to the SDK's compile time is a client generated for fewer
operations (awslabs/aws-sdk-rust#113); its code generator needs Java and
Maven, so this script does the same cut on the published, generated code.

What it does, mechanically and nothing else:
  * takes the crate file from cargo's cache or static.crates.io, checked
    against the SHA-256 that Cargo.lock recorded for it;
  * keeps the operations listed in the operations file, every type, shape
    (de)serializer, helper and waiter they reach through `crate::` paths,
    and every file that is not per operation, type or shape;
  * deletes the rest, and the lines of the index files (operation.rs,
    client.rs, types.rs, error_meta.rs, ...) that name what was deleted.
No kept line is changed. Each changed file gets a one-line notice
(Apache-2.0, section 4(b)).

    tools/trim_sdk.py --config tools/aws-sdk-ec2.trim            # write
    tools/trim_sdk.py --config tools/aws-sdk-ec2.trim --check    # compare

--check rebuilds the copy from the published crate into a temporary
directory and fails if the committed copy differs in any byte.
"""
import argparse
import glob
import hashlib
import io
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request

NOTICE = "// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.\n"


def read_config(path):
    """`key = value` lines, and one operation per line after `[operations]`."""
    conf, ops, in_ops = {}, [], False
    for raw in open(path, encoding="utf-8"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "[operations]":
            in_ops = True
        elif in_ops:
            ops.append(line)
        else:
            key, _, value = line.partition("=")
            conf[key.strip()] = value.strip().strip('"')
    for key in ("crate", "version", "sha256", "out"):
        if key not in conf:
            sys.exit(f"{path}: missing `{key} = ...`")
    if len(ops) != len(set(ops)):
        sys.exit(f"{path}: an operation is listed twice")
    conf["operations"] = sorted(ops)
    return conf


def crate_bytes(name, version, sha256):
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    for cached in glob.glob(os.path.join(home, "registry", "cache", "*", f"{name}-{version}.crate")):
        data = open(cached, "rb").read()
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    url = f"https://static.crates.io/crates/{name}/{name}-{version}.crate"
    with urllib.request.urlopen(url, timeout=300) as response:
        data = response.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        sys.exit(f"{url}: SHA-256 {got}, expected {sha256} (Cargo.lock's checksum)")
    return data


def unpack(data, into):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        try:
            tar.extractall(into, filter="data")
        except TypeError:  # Python before 3.12 and its backports
            tar.extractall(into)
    (top,) = os.listdir(into)
    return os.path.join(into, top)


def items(lines, indent=0):
    """Split rustfmt-formatted lines into the items at `indent` spaces.

    An item ends on a line at exactly that indentation that ends in `;` or
    `}`; doc comments, attributes and blank lines before it belong to it."""
    pad = " " * indent
    out, cur = [], []
    for line in lines:
        cur.append(line)
        text = line.rstrip("\n")
        if not text.startswith(pad) or text[indent:indent + 1] in ("", " "):
            continue
        rest = text[indent:]
        if rest.startswith("//") or rest.startswith("#"):
            continue
        if rest.endswith(";") or rest.endswith("}"):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


FN_NAME = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?fn\s+(\w+)", re.M)
REF = re.compile(r"crate::(operation|types|protocol_serde|waiters|serde_util|lens)::(\w+)(?:::(\w+))?")
MOD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(\w+);", re.M)


class Crate:
    """The units of a generated SDK crate and the `crate::` paths between them."""

    # Files whose items are units of their own (helper functions).
    FN_FILES = {"util": "serde_util.rs", "lens": "lens.rs", "matcher": "waiters/matchers.rs"}
    # Files that list modules or impls per operation, type or shape.
    INDEX = ["operation.rs", "client.rs", "types.rs", "types/builders.rs", "protocol_serde.rs",
             "waiters.rs", "error_meta.rs"]

    def __init__(self, root):
        self.root = root
        self.src = os.path.join(root, "src")
        self.ops = {n for n in os.listdir(self.p("operation")) if os.path.isdir(self.p("operation", n))}
        self.types = {n[:-3] for n in os.listdir(self.p("types")) if n.startswith("_") and n.endswith(".rs")}
        self.shapes = {n[:-3] for n in os.listdir(self.p("protocol_serde")) if n.endswith(".rs")}
        self.waiters = {n[:-3] for n in os.listdir(self.p("waiters")) if n.endswith(".rs")} - {"matchers"} \
            if os.path.isdir(self.p("waiters")) else set()
        # `pub use crate::types::_module::Name;` gives each type's and builder's module.
        self.type_module = {}
        for index in ("types.rs", "types/builders.rs"):
            for module, name in re.findall(r"crate::types::(_\w+)::(\w+);", self.read(index)):
                self.type_module[name] = module
        self.fns = {}
        for kind, path in self.FN_FILES.items():
            if os.path.exists(self.p(path)):
                for item in items(self.lines(path)):
                    unit = self.fn_unit(kind, item)
                    if unit:
                        self.fns[unit] = "".join(item)

    @staticmethod
    def fn_unit(kind, item):
        """The unit a function item of a FN_FILES file is, or None."""
        m = FN_NAME.search("".join(item))
        return (kind, m.group(1)) if m else None

    def p(self, *parts):
        return os.path.join(self.src, *parts)

    def read(self, rel):
        return open(self.p(rel), encoding="utf-8").read()

    def lines(self, rel):
        return open(self.p(rel), encoding="utf-8").readlines()

    def unit_files(self, unit):
        kind, name = unit
        if kind == "op":
            files = [f"operation/{name}.rs", f"client/{name}.rs"]
            for dirpath, _, names in os.walk(self.p("operation", name)):
                files += [os.path.relpath(os.path.join(dirpath, n), self.src) for n in names]
            return [f for f in files if os.path.exists(self.p(f))]
        return {"type": [f"types/{name}.rs"], "shape": [f"protocol_serde/{name}.rs"],
                "waiter": [f"waiters/{name}.rs"]}.get(kind, [])

    def unit_text(self, unit):
        if unit in self.fns:
            return self.fns[unit]
        return "".join(self.read(f) for f in self.unit_files(unit))

    def refs(self, text, index=None):
        """The units a piece of code names. `index` is the index file it is
        from, whose `mod x;` lines name units too. Comments do not count
        (lib.rs's doc example names the first operation)."""
        text = "".join(l for l in text.splitlines(True) if not l.lstrip().startswith("//"))
        found = set()
        for area, name, sub in REF.findall(text):
            if area == "operation" and name in self.ops:
                found.add(("op", name))
            elif area == "types":
                if name == "builders":
                    found.add(("type", self.type_module[sub]))
                elif name.startswith("_"):
                    found.add(("type", name))
                elif name in self.type_module:
                    found.add(("type", self.type_module[name]))
            elif area == "protocol_serde" and name in self.shapes:
                found.add(("shape", name))
            elif area == "waiters":
                if name == "matchers":
                    found.add(("matcher", sub))
                elif name in self.waiters:
                    found.add(("waiter", name))
            elif area == "serde_util":
                found.add(("util", name))
            elif area == "lens":
                found.add(("lens", name))
        for name in MOD.findall(text) if index else []:
            kind = {"operation.rs": "op", "client.rs": "op", "types.rs": "type",
                    "protocol_serde.rs": "shape", "waiters.rs": "waiter"}.get(index)
            pool = {"op": self.ops, "type": self.types, "shape": self.shapes, "waiter": self.waiters}.get(kind, ())
            if name in pool:
                found.add((kind, name))
        return found

    def all_units(self):
        units = {("op", n) for n in self.ops} | {("type", n) for n in self.types}
        units |= {("shape", n) for n in self.shapes} | {("waiter", n) for n in self.waiters}
        return units | set(self.fns)

    def core_files(self):
        """Files that belong to no operation, type, shape or waiter."""
        per_unit = {f for u in self.all_units() for f in self.unit_files(u)}
        skip = per_unit | set(self.INDEX) | set(self.FN_FILES.values())
        for dirpath, _, names in os.walk(self.src):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), self.src)
                if rel not in skip:
                    yield rel

    def reachable(self, operations):
        missing = sorted(set(operations) - self.ops)
        if missing:
            sys.exit(f"not operations of this crate: {', '.join(missing)}")
        keep = {("op", n) for n in operations}
        todo = list(keep)
        for rel in self.core_files():
            if rel.endswith(".rs"):
                todo += [u for u in self.refs(self.read(rel)) if u not in keep]
                keep |= set(todo)
        while todo:
            for u in self.refs(self.unit_text(todo.pop())):
                if u not in keep:
                    keep.add(u)
                    todo.append(u)
        return keep

    def filter_items(self, lines, keep, index, indent=0):
        """The lines of an index file whose items name only kept units; an
        impl or trait naming removed units only inside is filtered inside."""
        out = []
        for item in items(lines, indent):
            text = "".join(item)
            named = self.refs(text, index)
            if named <= keep:
                out += item
                continue
            opener = next((i for i, l in enumerate(item) if l.rstrip().endswith("{")
                           and not l.lstrip().startswith(("//", "#"))), None)
            closes = item[-1].rstrip() == " " * indent + "}"
            if opener is not None and closes and self.refs("".join(item[:opener + 1]), index) <= keep:
                out += item[:opener + 1]
                out += self.filter_items(item[opener + 1:-1], keep, index, indent + 4)
                out.append(item[-1])
        return out

    def trim(self, operations):
        keep = self.reachable(operations)
        for unit in self.all_units() - keep:
            for f in self.unit_files(unit):
                os.remove(self.p(f))
            if unit[0] == "op":
                shutil.rmtree(self.p("operation", unit[1]), ignore_errors=True)
        fn_kind = {rel: kind for kind, rel in self.FN_FILES.items()}
        for rel in self.INDEX + list(fn_kind):
            if not os.path.exists(self.p(rel)):
                continue
            before = self.lines(rel)
            after = self.filter_items(before, keep, rel)
            if rel in fn_kind:
                after = [l for item in items(after)
                         if (unit := self.fn_unit(fn_kind[rel], item)) is None or unit in keep
                         for l in item]
            if after != before:
                with open(self.p(rel), "w", encoding="utf-8") as f:
                    f.write(NOTICE + "".join(after))
        return keep


def trim_manifest(root):
    """The published Cargo.toml without the crate's own tests and
    dev-dependencies (their files are not copied) and without `[hints]`
    (cargo warns about it for path dependencies). Cargo caps the lints of
    registry crates but not of path ones, so the helpers the kept shapes no
    longer call are allowed to be dead here, instead of 40-odd warnings in a
    learner's first build."""
    path = os.path.join(root, "Cargo.toml")
    out, skipping = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("["):
            skipping = line.startswith(("[[test]]", "[dev-dependencies", "[hints]", "[lints"))
        if not skipping:
            out.append(line)
    with open(path, "w", encoding="utf-8") as f:
        f.write(NOTICE.replace("//", "#") + "".join(out).rstrip("\n")
                + '\n\n[lints.rust]\ndead_code = "allow"\n')


def build(conf, into):
    with tempfile.TemporaryDirectory() as tmp:
        root = unpack(crate_bytes(conf["crate"], conf["version"], conf["sha256"]), tmp)
        for extra in ("tests", "benches", "examples", "Cargo.toml.orig", ".cargo_vcs_info.json", ".cargo-ok"):
            target = os.path.join(root, extra)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.remove(target)
        crate = Crate(root)
        before = sum(1 for _ in os.walk(crate.src) for _ in _[2])
        keep = crate.trim(conf["operations"])
        trim_manifest(root)
        after = sum(1 for _ in os.walk(crate.src) for _ in _[2])
        with open(os.path.join(root, "TRIMMED.md"), "w", encoding="utf-8") as f:
            f.write(f"# {conf['crate']} {conf['version']}, trimmed\n\n"
                    f"This is the published crate `{conf['crate']}` {conf['version']} "
                    f"(crates.io, SHA-256 {conf['sha256']}) with only the operations sitedeploy calls:\n"
                    f"{len(conf['operations'])} operations and the {len(keep) - len(conf['operations'])} types, "
                    f"shapes and helpers they reach ({after} of {before} source files).\n\n"
                    "It was made by `tools/trim_sdk.py`, which deletes files and the index lines naming them "
                    "and changes no kept line; files it changed begin with a notice saying so. "
                    "The licence is the crate's own (LICENSE, Apache-2.0). "
                    "Do not edit: change the operations in the script's config and run it again.\n")
        if os.path.exists(into):
            shutil.rmtree(into)
        shutil.copytree(root, into)


def differences(a, b):
    def listing(top):
        return {os.path.relpath(os.path.join(d, n), top) for d, _, ns in os.walk(top) for n in ns}
    fa, fb = listing(a), listing(b)
    diff = sorted(fa ^ fb)
    diff += sorted(f for f in fa & fb if open(os.path.join(a, f), "rb").read() != open(os.path.join(b, f), "rb").read())
    return diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="e.g. tools/aws-sdk-ec2.trim")
    ap.add_argument("--check", action="store_true", help="rebuild in a temporary directory and compare")
    args = ap.parse_args()
    conf = read_config(args.config)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(repo, conf["out"])
    if not args.check:
        build(conf, out)
        print(f"wrote {conf['out']}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "fresh")
        build(conf, fresh)
        diff = differences(fresh, out)
        if diff:
            sys.exit(f"{conf['out']} is not what {args.config} makes from the published crate; "
                     f"run tools/trim_sdk.py --config {args.config}. Differs: {', '.join(diff[:10])}")
        print(f"{conf['out']}: identical to the trimmed published crate")


if __name__ == "__main__":
    main()
