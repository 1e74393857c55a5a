# Labelling helper (bench only): deprecated uses in Python are judged with Python's own tokenizer (a match
# inside a COMMENT or STRING token is not a use); everything else from the manual table.
import io, re, sys, tokenize, os
src = sys.argv[2]  # folder holding <project>/<folder>
folders = {"attrs": "attrs-25.3.0", "starlette": "starlette-0.46.2", "fastify": "package", "express": "package", "clap": "clap-4.5.20", "httpx": "httpx-0.28.1", "structlog": "structlog-25.4.0", "ws": "package", "tokio": "tokio-1.41.0"}
manual = {}
for line in open(sys.argv[3]):
    if line.strip() and not line.startswith("#"):
        c = line.rstrip("\n").split("\t")
        manual[tuple(c[:3])] = (c[3], c[4])
def py_label(path, line, pattern):
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.splitlines()
    offsets = [0]
    for l in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(l))
    kinds = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        kinds.append(tok)
    rx = re.compile(pattern)
    src_line = lines[line - 1]
    verdicts = []
    for m in rx.finditer(src_line):
        col = m.start()
        kind = "code"
        for tok in kinds:
            (sr, sc), (er, ec) = tok.start, tok.end
            if (sr, sc) <= (line, col) < (er, ec):
                if tok.type == tokenize.COMMENT: kind = "comment"
                elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -99): kind = "string"
                elif tok.type == tokenize.NAME and col > sc: kind = "inside a longer name"
                break
        verdicts.append(kind)
    if "code" in verdicts:
        return "true", "a use in code (Python tokenizer)"
    return "false", f"the match is in a {verdicts[0] if verdicts else 'nothing'} (Python tokenizer)"
for line in open(sys.argv[1]):
    c = line.rstrip("\n").split("\t")
    project, kind, loc, what = c
    key = (project, kind, loc)
    if key in manual:
        label, why = manual[key]
    elif kind == "deprecated" and loc.split(":")[0].endswith((".py", ".pyi")):
        path, ln = loc.rsplit(":", 1)
        pattern = what[1:what.index("/ ", 1)]
        label, why = py_label(os.path.join(src, project, folders[project], path), int(ln), pattern)
    else:
        label, why = "?", "UNLABELLED"
    print("\t".join([project, kind, loc, what, label, why]))
