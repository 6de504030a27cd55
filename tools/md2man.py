#!/usr/bin/env python3
"""Converts the man page source (docs/pincurl.1.md) into roff for man(1).

The markdown subset it understands:
  # name(section) -- one-line description     the title line (first line)
  ## SECTION                                   .SH
  ### Subsection                               .SS
  paragraphs (blank-line separated)            .PP
  `term`  followed by lines ": text"           a tagged paragraph (.TP)
  * item / - item                              a bullet list
  | a | b |  tables                            one tagged paragraph per row (header skipped)
  ``` fenced blocks                            verbatim (.nf / .fi)
  inline **bold**, `code` (bold), *italic*

usage: md2man.py [--version V] [--date YYYY-MM-DD] INPUT.md OUTPUT
"""
import argparse
import re
import sys
import time


def escape(text):
    """Escapes roff specials in plain text."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    """Markdown inline markup to roff font changes, with escaping outside markup."""
    out = []
    pos = 0
    pattern = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`|\*([^*\s][^*]*?)\*")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(escape(text[pos:]))
    line = "".join(out)
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def table_cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def convert(lines, version, date):
    out = []
    title = lines[0].strip() if lines else ""
    m = re.match(r"#\s+([\w.-]+)\((\d)\)\s+--\s+(.*)", title)
    if not m:
        raise ValueError("the first line must be '# name(section) -- description'")
    name, section, description = m.groups()
    out.append('.TH "%s" "%s" "%s" "%s %s" "User Commands"'
               % (name.upper(), section, date, name, version))
    out.append(".SH NAME")
    out.append("%s \\- %s" % (escape(name), inline(description)))
    i = 1
    paragraph = []

    def flush():
        if paragraph:
            out.append(".PP")
            out.extend(inline(p) for p in paragraph)
            paragraph.clear()

    while i < len(lines):
        line = lines[i].rstrip("\n")
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            out.append(".PP")
            out.append(".RS 4")
            out.append(".nf")
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                verbatim = escape(lines[i].rstrip("\n"))
                if verbatim.startswith(".") or verbatim.startswith("'"):
                    verbatim = "\\&" + verbatim
                out.append(verbatim)
                i += 1
            out.append(".fi")
            out.append(".RE")
            i += 1
            continue
        if stripped.startswith("### "):
            flush()
            out.append(".SS " + inline(stripped[4:]))
        elif stripped.startswith("## "):
            flush()
            out.append(".SH " + inline(stripped[3:]).upper())
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(table_cells(lines[i]))
                i += 1
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            for r in body:
                out.append(".TP")
                out.append(inline(r[0]))
                out.append(inline(" ".join(r[1:])))
            continue
        elif re.match(r"^[*-] ", stripped):
            flush()
            out.append(".IP \\(bu 2")
            out.append(inline(stripped[2:]))
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip() \
                    and not re.match(r"^[*-] ", lines[i].strip()):
                out.append(inline(lines[i].strip()))
                i += 1
            continue
        elif (i + 1 < len(lines) and lines[i + 1].startswith(": ") and stripped):
            flush()
            out.append(".TP")
            out.append(inline(stripped))
            i += 1
            while i < len(lines) and (lines[i].startswith(": ") or lines[i].startswith("  ")) \
                    and lines[i].strip():
                text = lines[i][2:].strip()
                out.append(inline(text))
                i += 1
            continue
        elif not stripped:
            flush()
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description="markdown man page source to roff")
    ap.add_argument("--version", default="")
    ap.add_argument("--date", default=None)
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args(argv)
    date = args.date or time.strftime("%Y-%m-%d", time.gmtime())
    with open(args.input, encoding="utf-8") as f:
        lines = f.readlines()
    try:
        text = convert(lines, args.version, date)
    except ValueError as e:
        print("md2man: %s: %s" % (args.input, e), file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
