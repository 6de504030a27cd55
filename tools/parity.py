#!/usr/bin/env python3
"""Parity of the Java and Swift bindings with the C API (ctest bindings.parity).

    tools/parity.py [SOURCE_DIR]          check; print the table; exit 1 on a problem
    tools/parity.py --markdown [SOURCE_DIR]   the table as Markdown (for a person)

Lists every public C function (PINCURL_API in include/pincurl/*.h; pincurl_options_* are
the options), every status (include/pincurl/status_list.h) and every event kind
(pincurl_event_kind in events.h), and where each binding exposes it:

- functions and options: bindings/parity.tsv names a place per binding (Java
  Class#member, Swift Type.member) or a reason ("-: ..."). Checked: every C function has
  a row and every row a C function; a place exists (Java: the class's file declares the
  member; Swift: a file declaring or extending the type declares the member); a binding
  with a place calls the C function in its sources (Java: src/main/java or the glue of
  pincurl.i; Swift: Sources/Pincurl); a binding with a reason does not call it.
- statuses: Java's Status enum is generated from the list at build time
  (bindings/java/cmake/GenerateStatus.cmake, read here to be sure it reads that list);
  Swift's PincurlError.Code must have one case per status but OK, with its number.
- event kinds: Java's EventKind and Swift's Event.Kind must have each kind with its
  number.

A new C function, status or event kind that neither binding accounts for fails the test.
"""

import os
import re
import sys


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strip_c_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def c_functions(src):
    names = set()
    inc = os.path.join(src, "include", "pincurl")
    for f in sorted(os.listdir(inc)):
        if f.endswith(".h"):
            text = " ".join(strip_c_comments(read(os.path.join(inc, f))).split())
            for m in re.finditer(r"PINCURL_API[^;(]*?\b(pincurl_[a-z0-9_]+)\s*\(", text):
                names.add(m.group(1))
    return names


def statuses(src):
    out = []
    for line in read(os.path.join(src, "include/pincurl/status_list.h")).splitlines():
        m = re.match(r"^PINCURL_STATUS\(\s*([A-Z0-9_]+)\s*,\s*([0-9]+)", line)
        if m:
            out.append((m.group(1), int(m.group(2))))
    return out


def event_kinds(src):
    text = strip_c_comments(read(os.path.join(src, "include/pincurl/events.h")))
    body = re.search(r"typedef enum pincurl_event_kind\s*\{(.*?)\}", text, re.S).group(1)
    return [(m.group(1), int(m.group(2)))
            for m in re.finditer(r"PINCURL_EVENT_([A-Z0-9_]+)\s*=\s*([0-9]+)", body)]


def camel(name):
    words = name.lower().split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def code_lines(text, comment):
    """Lines of source without whole-line comments."""
    return "\n".join(l for l in text.splitlines() if not l.strip().startswith(comment))


class Binding:
    def __init__(self, name, files, glue=None):
        self.name = name
        self.files = files  # path -> text
        self.code = "\n".join(code_lines(t, "//") for t in files.values())
        if glue is not None:
            # the hand-written C of pincurl.i: calls, not %ignore lines or comments
            self.code += "\n" + "\n".join(l for l in strip_c_comments(glue).splitlines()
                                          if not l.lstrip().startswith("%"))

    def calls(self, fn):
        return re.search(r"\b" + re.escape(fn) + r"\b", self.code) is not None


def java_place_ok(java_dir, place):
    m = re.fullmatch(r"([A-Za-z0-9_]+)#([A-Za-z0-9_]+)", place)
    if not m:
        return "not Class#member"
    path = os.path.join(java_dir, m.group(1) + ".java")
    if not os.path.exists(path):
        return f"no {m.group(1)}.java"
    if not re.search(r"\b" + m.group(2) + r"\s*\(", code_lines(read(path), "//")):
        return f"{m.group(1)}.java declares no {m.group(2)}(...)"
    return None


def swift_place_ok(files, place):
    m = re.fullmatch(r"([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)", place)
    if not m:
        return "not Type.member"
    typ, member = m.groups()
    decl = re.compile(r"\b(class|struct|enum|extension|actor)\s+([A-Za-z0-9_.]+\.)?" + typ + r"\b")
    if member in ("init", "deinit"):
        mem = re.compile(r"\b" + member + r"\b\s*[({?]")
    else:
        mem = re.compile(r"\b(func|var|let|case)\s+" + member + r"\b")
    for text in files.values():
        text = code_lines(text, "//")
        if decl.search(text) and mem.search(text):
            return None
    return f"no file declares {member} in {typ}"


def main(argv):
    markdown = "--markdown" in argv
    args = [a for a in argv[1:] if a != "--markdown"]
    src = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    problems = []

    java_dir = os.path.join(src, "bindings/java/src/main/java/org/pincurl")
    swift_dir = os.path.join(src, "bindings/swift/Pincurl/Sources/Pincurl")
    java_files = {f: read(os.path.join(java_dir, f)) for f in os.listdir(java_dir) if f.endswith(".java")}
    swift_files = {f: read(os.path.join(swift_dir, f)) for f in os.listdir(swift_dir) if f.endswith(".swift")}
    java = Binding("java", java_files, read(os.path.join(src, "bindings/java/pincurl.i")))
    swift = Binding("swift", swift_files)

    # ---- functions and options
    funcs = c_functions(src)
    table = {}
    for n, line in enumerate(read(os.path.join(src, "bindings/parity.tsv")).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3:
            problems.append(f"parity.tsv:{n}: not three tab-separated columns")
            continue
        if cols[0] in table:
            problems.append(f"parity.tsv:{n}: {cols[0]} twice")
        table[cols[0]] = (cols[1].strip(), cols[2].strip())
    for fn in sorted(funcs - table.keys()):
        problems.append(f"{fn}: a public C function neither binding accounts for (add it to bindings/parity.tsv)")
    for fn in sorted(table.keys() - funcs):
        problems.append(f"{fn}: in bindings/parity.tsv but not a public C function")
    rows = []
    for fn in sorted(funcs & table.keys()):
        kind = "option" if fn.startswith("pincurl_options_") else "function"
        cells = []
        for binding, cell, place_ok in ((java, table[fn][0], lambda p: java_place_ok(java_dir, p)),
                                        (swift, table[fn][1], lambda p: swift_place_ok(swift_files, p))):
            if cell.startswith("-:"):
                if not cell[2:].strip():
                    problems.append(f"{fn}: {binding.name}: a reason is required after '-:'")
                if binding.calls(fn):
                    problems.append(f"{fn}: {binding.name} calls it, but the table gives a reason")
            else:
                why = place_ok(cell)
                if why:
                    problems.append(f"{fn}: {binding.name} place {cell}: {why}")
                if not binding.calls(fn):
                    problems.append(f"{fn}: {binding.name} place {cell}, but the binding never calls it")
            cells.append(cell)
        rows.append((kind, fn, cells[0], cells[1]))

    # ---- statuses
    gen = read(os.path.join(src, "bindings/java/cmake/GenerateStatus.cmake"))
    if "PINCURL_STATUS" not in gen:
        problems.append("GenerateStatus.cmake no longer reads the PINCURL_STATUS list")
    java_status_rule = read(os.path.join(src, "bindings/java/CMakeLists.txt"))
    if "status_list.h" not in java_status_rule:
        problems.append("the Java build no longer generates Status.java from status_list.h")
    swift_status = read(os.path.join(swift_dir, "Status+Generated.swift"))
    for name, number in statuses(src):
        swift_case = camel(name)
        if number == 0:
            rows.append(("status", name, "Status.OK (generated)", "no error"))
            continue
        if not re.search(r"case `?" + swift_case + r"`? = " + str(number) + r"\b", swift_status):
            problems.append(f"status {name} = {number}: no case {swift_case} = {number} in Swift's PincurlError.Code")
        rows.append(("status", name, f"Status.{name} (generated)", f"PincurlError.Code.{swift_case}"))

    # ---- event kinds
    java_kind = read(os.path.join(java_dir, "EventKind.java"))
    swift_event = read(os.path.join(swift_dir, "Event.swift"))
    for name, number in event_kinds(src):
        if not re.search(r"\b" + name + r"\(" + str(number) + r"\)", java_kind):
            problems.append(f"event kind {name} = {number}: not in Java's EventKind")
        if not re.search(r"case " + camel(name) + r" = " + str(number) + r"\b", swift_event):
            problems.append(f"event kind {name} = {number}: not in Swift's Event.Kind")
        rows.append(("event", name, f"EventKind.{name}", f"Event.Kind.{camel(name)}"))

    if markdown:
        print("| kind | C | Java | Swift |\n|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    else:
        for r in rows:
            print("\t".join(r))
    counts = {}
    for kind, _, j, s in rows:
        c = counts.setdefault(kind, [0, 0, 0])
        c[0] += 1
        c[1] += not j.startswith("-:")
        c[2] += not s.startswith("-:")
    summary = ", ".join(f"{k}: {v[0]} (Java {v[1]}, Swift {v[2]})" for k, v in counts.items())
    for p in problems:
        print("parity: " + p, file=sys.stderr)
    print(f"parity: {summary}; {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
