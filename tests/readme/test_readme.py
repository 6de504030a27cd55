#!/usr/bin/env python3
"""README.md, top to bottom: its commands run exactly as written, its files are the files.

usage: test_readme.py   (env: PINCURL_SOURCE_DIR, PINCURL_BINARY_DIR)

README.md marks its code blocks with an HTML comment on the line before:
    <!-- readme-test: setup -->        the set-up commands (they are what runs this test)
    <!-- readme-test: run -->          shell commands, run in order in one bash session
    <!-- readme-test: file PATH -->    must be exactly the repository's PATH
Every unmarked code block is an error (so nothing shown goes untested). The commands run
with `set -euo pipefail` from a directory that mirrors the clone (its `build` is this build
tree), with HOME a fresh temporary directory (the README installs into $HOME/pincurl and
works in $HOME/pincurl-demo) and PORT a free port for its local server. Checked on the way:
the outputs the README says the commands print, the example policies (README's and
docs/policy.md's) pass `pincurl policy check` without a warning. Whatever the commands
start is in a process group of its own, ended when they are done. The last line printed
is "N passed, N failed".
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("PINCURL_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY = os.environ.get("PINCURL_BINARY_DIR", os.path.join(SOURCE, "build"))
BLOCK = re.compile(r"<!-- readme-test: (\w+)(?: ([^ ]+))? -->\n```(\w*)\n(.*?)```", re.S)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def blocks(text):
    found = [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in BLOCK.finditer(text)]
    fences = sum(1 for line in text.splitlines() if line.startswith("```"))
    return found, fences // 2


def main():
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail))

    with open(os.path.join(SOURCE, "README.md")) as f:
        readme = f.read()
    found, total = blocks(readme)
    check("every code block of README.md is marked", len(found) == total,
          "%d blocks, %d marked" % (total, len(found)))
    check("the set-up commands come first", found and found[0][0] == "setup" and
          "bash tools/demo.sh" in found[0][3] and "bash tools/test.sh" in found[0][3])

    for kind, path, _, body in found:
        if kind == "file":
            with open(os.path.join(SOURCE, path)) as f:
                check("README shows %s as it is" % path, f.read() == body)

    pincurl = os.path.join(BINARY, "tools", "pincurl")
    with open(os.path.join(SOURCE, "docs", "policy.md")) as f:
        doc_example = re.search(r"## A complete example\n\n```json\n(.*?)```", f.read(), re.S)
    check("docs/policy.md has its complete example", doc_example is not None)

    work = tempfile.mkdtemp(prefix="pincurl-readme-")
    home = os.path.join(work, "home")
    clone = os.path.join(work, "clone")
    os.makedirs(home)
    os.makedirs(clone)
    if doc_example is not None:
        example = os.path.join(work, "docs-example.json")
        with open(example, "w") as f:
            f.write(doc_example.group(1))
        p = subprocess.run([pincurl, "policy", "check", example], capture_output=True, text=True)
        check("docs/policy.md's example passes policy check without a warning",
              p.returncode == 0 and "0 errors, 0 warnings" in p.stdout, p.stdout + p.stderr)

    # The clone as the README sees it: the sources, and this build tree as build/.
    for name in os.listdir(SOURCE):
        if name.startswith(".") or name.startswith("build"):
            continue
        os.symlink(os.path.join(SOURCE, name), os.path.join(clone, name))
    os.symlink(BINARY, os.path.join(clone, "build"))

    script = "set -euo pipefail\n" + "".join(
        "echo '### README block %d'\n%s" % (n, body)
        for n, (kind, _, _, body) in enumerate(found) if kind == "run")
    env = dict(os.environ)
    env.update(HOME=home, PORT=str(free_port()))
    for var in ("PKG_CONFIG_PATH", "DEMO", "CMAKE_PREFIX_PATH"):
        env.pop(var, None)
    proc = subprocess.Popen(["bash", "-c", script], cwd=clone, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        out += "\n(timed out)"
    finally:
        try:  # the local server, if a failing step left it running
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    check("the README's commands all succeed", proc.returncode == 0,
          "exit %s; output:\n%s" % (proc.returncode, out[-6000:]))
    expected = [
        "hello from server (HTTP 200, SUCCESS, pin at depth 1)",   # the first pinned request
        "refused: exit status 90",                                 # pins not on the path
        "0 errors, 0 warnings",                                     # policy check
        "HTTP 200, 17 bytes: hello from server",                   # the program, CMake
        "refused: exit status 1",                                  # the program, failing
    ]
    for line in expected:
        check("the README's commands print %r" % line, line in out, out[-3000:])
    check("both policies pass the check", out.count("0 errors, 0 warnings") == 2, out[-3000:])
    check("both builds of the program succeed",
          out.count("HTTP 200, 17 bytes: hello from server") == 2, out[-3000:])

    subprocess.run(["rm", "-rf", work])
    passed = sum(1 for r in results if r)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
