#!/usr/bin/env python3
"""Real TrustKit and Android configurations imported as the checked-in expectations say.

usage: test_import_corpus.py PINCURL [--update]

For every configuration in tests/data/import/{trustkit,android} (sources in its README):
  - `pincurl policy import` prints exactly the policy in tests/data/import/expected/FMT/
    NAME.json and exactly the stderr (its first line the exit code) in NAME.txt; a
    configuration refused only for its one-pin sets is also imported with each
    --single-pin choice (NAME@report-only.*, NAME@enforce.*);
  - import -> export -> import is a fixed point: exporting the imported policy to the
    source format and importing that again gives the same policy.
--update rewrites the expectations from what the tool prints (review the diff).
"""
import json
import os
import subprocess
import sys
import tempfile

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(SOURCE, "tests", "data", "import")
FORMATS = {"trustkit": "plist", "android": "xml"}


def run(argv, cwd=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def cases():
    for fmt in FORMATS:
        for fn in sorted(os.listdir(os.path.join(CORPUS, fmt))):
            yield fmt, fn


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pincurl = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv[2:]
    passed = failed = 0
    fails = []
    with tempfile.TemporaryDirectory(prefix="pincurl-corpus-") as tmp:
        for fmt, fn in cases():
            src = "%s/%s" % (fmt, fn)
            rc, out, err = run([pincurl, "policy", "import", "--from", fmt, src], cwd=CORPUS)
            variants = [("", [], rc, out, err)]
            if rc == 110 and "--single-pin" in err:
                for mode in ("report-only", "enforce"):
                    v = run([pincurl, "policy", "import", "--from", fmt, "--single-pin", mode,
                             src], cwd=CORPUS)
                    variants.append(("@" + mode, ["--single-pin", mode]) + v)
            for suffix, opts, rc, out, err in variants:
                name = "%s%s" % (src, suffix)
                base = os.path.join(CORPUS, "expected", fmt, fn + suffix)
                got_txt = "exit %d\n%s" % (rc, err)
                if update:
                    os.makedirs(os.path.dirname(base), exist_ok=True)
                    with open(base + ".txt", "w") as f:
                        f.write(got_txt)
                    if rc in (0, 1):
                        with open(base + ".json", "w") as f:
                            f.write(out)
                    elif os.path.exists(base + ".json"):
                        os.remove(base + ".json")
                problems = []
                try:
                    with open(base + ".txt") as f:
                        want_txt = f.read()
                except OSError:
                    want_txt = None
                if want_txt != got_txt:
                    problems.append("stderr and exit code differ:\n--- expected\n%s--- got\n%s"
                                    % (want_txt, got_txt))
                if rc in (0, 1):
                    try:
                        with open(base + ".json") as f:
                            want = f.read()
                    except OSError:
                        want = None
                    if want != out:
                        problems.append("the policy differs:\n--- expected\n%s--- got\n%s"
                                        % (want, out))
                    # the fixed point, through the source format
                    first = os.path.join(tmp, "first.json")
                    back = os.path.join(tmp, "back." + FORMATS[fmt])
                    with open(first, "w") as f:
                        f.write(out)
                    erc, eout, eerr = run([pincurl, "policy", "export", "--to", fmt, first])
                    with open(back, "w") as f:
                        f.write(eout)
                    irc, iout, ierr = run([pincurl, "policy", "import", "--from", fmt] + opts +
                                          [back])
                    if erc not in (0, 1) or irc not in (0, 1):
                        problems.append("export %d / re-import %d:\n%s%s" % (erc, irc, eerr,
                                                                             ierr))
                    elif json.loads(iout) != json.loads(out):
                        problems.append("import -> export -> import is not a fixed point:\n%s\n"
                                        "%s\n%s" % (eout, iout, ierr))
                elif rc != 110:
                    problems.append("exit %d: neither an import nor a refusal" % rc)
                if problems:
                    failed += 1
                    fails.append("%s: %s" % (name, "\n".join(problems)))
                    print("FAIL %s" % name)
                else:
                    passed += 1
                    print("ok   %s" % name)
    for f in fails:
        print(f)
    ntk = sum(1 for fmt, _ in cases() if fmt == "trustkit")
    nan = sum(1 for fmt, _ in cases() if fmt == "android")
    if ntk < 10 or nan < 10:
        print("the corpus needs at least 10 configurations of each kind (%d, %d)" % (ntk, nan))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
