#!/usr/bin/env python3
"""A renderer for the subset of Helm's template language deploy/helm/sauve uses.

Helm is not packaged by Debian and its releases come from a host this project
cannot reach, so the chart test renders the chart with this instead. It follows
Go's text/template and Sprig where the chart touches them, and refuses the rest
at parse time: a template that uses a construct or a function outside the
subset fails with its file and line, rather than rendering something Helm
would not.

The subset:
  actions    {{ pipeline }}, {{- -}} trimming, {{/* comments */}},
             if / else if / else / end, with / else / end, range (lists and
             maps, with $i, $v :=) / else / end, define / end,
             $var := pipeline, $var = pipeline
  operands   .Values… .Release… .Chart… .Template…, $, $var.field, ".",
             "strings", `raw strings`, numbers, true, false, nil, ( pipeline )
  functions  see FUNCS below (Go's: and or not eq ne lt le gt ge print printf
             len; Sprig's and Helm's: the rest)

Go and Helm behaviour it keeps, because charts trip on it: numbers from values
files are float64 (so `gt .Values.n 1` fails, `int` is needed, and a float
prints as Go's %v would: 1e+06); a field of a missing value is an error (nil
pointer evaluating interface {}.x); a missing map key prints as ""; comparing
an int with a float is an error; printing a map or a list is refused (it would
print Go's map[...] syntax, never what a manifest wants).

Command line, like `helm template`:
  render.py CHART [-f values.yaml]... [--set a.b=value]... [--name RELEASE]
            [--namespace NS] [--notes]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
from decimal import Decimal

import yaml


class TemplateError(Exception):
    """The template cannot be parsed or executed (Helm would fail too)."""


class Unsupported(TemplateError):
    """The template uses something outside the subset this renderer knows."""


class Fail(Exception):
    """`fail` or `required` was called: the chart refused these values."""


# ---------------------------------------------------------------------------
# Values: Go's view of YAML data.
# ---------------------------------------------------------------------------


class Struct:
    """A Go struct (.Release, .Chart, .Template): an unknown field is an error."""

    def __init__(self, type_name: str, **fields):
        self.type_name = type_name
        self.fields = fields

    def get(self, name: str):
        if name not in self.fields:
            raise TemplateError(f"can't evaluate field {name} in type {self.type_name}")
        return self.fields[name]


def go_floats(v):
    """Numbers from a values file are float64 in Helm's templates."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dict):
        return {k: go_floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [go_floats(x) for x in v]
    return v


def go_float_str(f: float) -> str:
    """fmt's %v of a float64: the shortest digits, %e when exp < -4 or >= 21... or 6."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "0" if math.copysign(1, f) > 0 else "-0"
    sign, digits, exp = Decimal(repr(f)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp += 1
    nd = len(digits)
    dp = nd + exp  # position of the decimal point
    x = dp - 1
    neg = "-" if sign else ""
    ds = "".join(map(str, digits))
    if x < -4 or x >= 6:  # shortest %g uses precision 6 for this decision
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        return f"{neg}{mant}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= nd:
        return f"{neg}{ds}{'0' * (dp - nd)}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def kind(v) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, dict):
        return "map"
    return "struct"


def go_type(v) -> str:
    return {
        "nil": "<nil>",
        "bool": "bool",
        "int": "int",
        "float": "float64",
        "string": "string",
        "slice": "[]interface {}",
        "map": "map[string]interface {}",
    }.get(kind(v), getattr(v, "type_name", "struct"))


def truth(v) -> bool:
    """text/template's notion of true (also Sprig's `empty`, negated)."""
    if v is None:
        return False
    if isinstance(v, (bool, int, float, str, list, dict)):
        return bool(v)
    return True


def strval(v) -> str:
    """How a value prints: Go's fmt %v for what the chart may print."""
    if v is None:
        return ""  # Helm replaces "<no value>" with ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float_str(v)
    if isinstance(v, str):
        return v
    raise TemplateError(
        f"printing a {go_type(v)} would give Go's own syntax, not YAML: use toYaml"
    )


def go_quote(s: str) -> str:
    """Go's %q for the strings a chart quotes."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class _GoDumper(yaml.SafeDumper):
    """PyYAML dumping as go-yaml v2 does for what a chart feeds toYaml."""

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        # go-yaml quotes with double quotes, and quotes what YAML 1.1 reads as
        # a boolean (y, n, on, off…), which PyYAML leaves bare.
        if style == "'":
            return '"'
        if not style and self.event.tag == "tag:yaml.org,2002:str" and self.event.implicit[0] \
                and self.event.value in _YAML11_BOOLS:
            return '"'
        return style


_YAML11_BOOLS = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
                 "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"}


def _float_repr(dumper, f):
    # Helm's toYaml goes through JSON: 3.0 is 3, 1e6 is 1000000.
    if f.is_integer() and abs(f) < 1e21:
        return dumper.represent_int(int(f))
    return dumper.represent_float(f)


_GoDumper.add_representer(float, _float_repr)


def to_yaml(v) -> str:
    if isinstance(v, Struct):
        raise Unsupported("toYaml of a Helm object (.Release, .Chart…)")
    text = yaml.dump(v, Dumper=_GoDumper, default_flow_style=False, sort_keys=True,
                     width=float("inf"), allow_unicode=True)
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text[:-1] if text.endswith("\n") else text


# ---------------------------------------------------------------------------
# Functions.
# ---------------------------------------------------------------------------


def _want(fn, v, *kinds):
    if kind(v) not in kinds:
        raise TemplateError(
            f"error calling {fn}: wrong type for value; expected {' or '.join(kinds)}; got {go_type(v)}"
        )
    return v


def _to_int(v) -> int:
    """Sprig's int (cast.ToInt)."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip(), 0)
        except ValueError:
            return 0
    return 0


def _compare(fn, a, b) -> int:
    ka, kb = kind(a), kind(b)
    if ka != kb or ka not in ("int", "float", "string"):
        raise TemplateError(
            f"error calling {fn}: incompatible types for comparison ({go_type(a)} and {go_type(b)})"
        )
    return (a > b) - (a < b)


def _eq(a, *bs):
    if not bs:
        raise TemplateError("error calling eq: missing argument for comparison")
    for b in bs:
        ka, kb = kind(a), kind(b)
        if ka != kb:
            if ka != "nil" and kb != "nil":
                raise TemplateError(
                    f"error calling eq: incompatible types for comparison ({go_type(a)} and {go_type(b)})"
                )
            continue
        if ka in ("slice", "map"):
            raise TemplateError(f"error calling eq: non-comparable type {go_type(a)}")
        if a == b:
            return True
    return False


def _printf(fmt, *args):
    _want("printf", fmt, "string")
    args = list(args)
    out = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1] if i + 1 < len(fmt) else ""
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if verb not in "sdvq" or not verb:
            raise Unsupported(f"printf verb %{verb}")
        if not args:
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args.pop(0)
        if verb == "d":
            if kind(a) != "int":
                out.append(f"%!d({go_type(a)}={strval(a)})")
            else:
                out.append(str(a))
        elif verb == "q":
            out.append(go_quote(strval(a)) if kind(a) == "string" else strval(a))
        else:
            out.append(strval(a))
    if args:
        out.append("%!(EXTRA " + ", ".join(f"{go_type(a)}={strval(a)}" for a in args) + ")")
    return "".join(out)


def _print(*args):
    out = []
    for i, a in enumerate(args):
        if i > 0 and kind(a) != "string" and kind(args[i - 1]) != "string":
            out.append(" ")
        out.append(strval(a))
    return "".join(out)


def _indent(n, s):
    _want("indent", n, "int")
    _want("indent", s, "string")
    pad = " " * n
    return pad + s.replace("\n", "\n" + pad)


def _trunc(n, s):
    _want("trunc", n, "int")
    _want("trunc", s, "string")
    if n < 0:
        return s[n:] if len(s) > -n else s
    return s[:n]


def _required(msg, v=None):
    _want("required", msg, "string")
    if v is None or (isinstance(v, str) and v == ""):
        raise Fail(msg)
    return v


def _fail(msg):
    _want("fail", msg, "string")
    raise Fail(msg)


def _dict(*kv):
    if len(kv) % 2:
        raise TemplateError("error calling dict: odd number of arguments")
    return {strval(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)}


def _has(needle, haystack):
    if haystack is None:
        return False
    _want("has", haystack, "slice")
    return any(kind(x) == kind(needle) and x == needle for x in haystack)


def _join(sep, v):
    _want("join", sep, "string")
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    _want("join", v, "slice")
    return sep.join(strval(x) for x in v)


def _trim_suffix(suf, s):
    _want("trimSuffix", suf, "string")
    _want("trimSuffix", s, "string")
    return s[: -len(suf)] if suf and s.endswith(suf) else s


def _len(v):
    _want("len", v, "string", "slice", "map")
    return len(v)


# name -> callable; "and", "or", "include" are handled by the executor.
FUNCS = {
    # Go's
    "not": lambda v: not truth(v),
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": lambda a, b: _compare("lt", a, b) < 0,
    "le": lambda a, b: _compare("le", a, b) <= 0,
    "gt": lambda a, b: _compare("gt", a, b) > 0,
    "ge": lambda a, b: _compare("ge", a, b) >= 0,
    "print": _print,
    "printf": _printf,
    "len": _len,
    # Sprig's and Helm's
    "default": lambda d, *given: d if not given or not truth(given[0]) else given[0],
    "empty": lambda v: not truth(v),
    "quote": lambda *a: " ".join(go_quote(strval(x)) for x in a if x is not None),
    "toYaml": to_yaml,
    "indent": _indent,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "fail": _fail,
    "required": _required,
    "trunc": _trunc,
    "trimSuffix": lambda suf, s: _trim_suffix(suf, s),
    "trim": lambda s: _want("trim", s, "string").strip(" \t\r\n\v\f"),
    "contains": lambda sub, s: _want("contains", sub, "string") in _want("contains", s, "string"),
    "replace": lambda old, new, s: _want("replace", s, "string").replace(old, new),
    "lower": lambda s: _want("lower", s, "string").lower(),
    "toString": strval,
    "int": _to_int,
    "has": _has,
    "list": lambda *a: list(a),
    "dict": _dict,
    "join": _join,
    "sha256sum": lambda s: hashlib.sha256(_want("sha256sum", s, "string").encode()).hexdigest(),
}
SPECIAL = {"and", "or", "include"}
KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block",
            "break", "continue", "true", "false", "nil"}


# ---------------------------------------------------------------------------
# Lexing and parsing.
# ---------------------------------------------------------------------------


def split_actions(src: str, name: str):
    """[(kind, text, line)]: 'text' pieces and 'action' bodies, trimming applied."""
    items = []
    i = 0
    line = 1
    trim_next = False
    while True:
        j = src.find("{{", i)
        text = src[i:] if j < 0 else src[i:j]
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if j < 0:
            items.append(("text", text, line))
            return items
        k = j + 2
        trim_left = src.startswith("-", k) and k + 1 < len(src) and src[k + 1] in " \t\r\n"
        if trim_left:
            text = text.rstrip(" \t\r\n")
            k += 2
        items.append(("text", text, line))
        line += src.count("\n", i, j)
        # Find the end of the action, outside quotes and comments.
        p = k
        while p < len(src) and src[p] in " \t\r\n":
            p += 1
        if src.startswith("/*", p):
            end = src.find("*/", p + 2)
            if end < 0:
                raise TemplateError(f"{name}:{line}: unclosed comment")
            q = end + 2
            m = re.match(r"(\s*-)?}}", src[q:])
            if not m:
                raise TemplateError(f"{name}:{line}: comment ends in */ not followed by }}}}")
            trim_next = bool(m.group(1))
            close = q + m.end()
            line += src.count("\n", j, close)
            i = close
            continue
        p = k
        quote = None
        while p < len(src):
            c = src[p]
            if quote:
                if c == "\\" and quote == '"':
                    p += 2
                    continue
                if c == quote:
                    quote = None
            elif c in "\"`'":
                quote = c
            elif src.startswith("}}", p):
                break
            p += 1
        else:
            raise TemplateError(f"{name}:{line}: unclosed action")
        body = src[k:p]
        trim_next = False
        if re.search(r"[ \t\r\n]-$", body):
            body = body[:-1]
            trim_next = True
        items.append(("action", body, line))
        line += src.count("\n", j, p + 2)
        i = p + 2


TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)*')
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()|,])
    """,
    re.X,
)

_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
        "f": "\f", "v": "\v", "'": "'"}


def unquote(s: str, where: str) -> str:
    out = []
    i = 1
    while i < len(s) - 1:
        c = s[i]
        if c == "\\":
            e = s[i + 1]
            if e in _ESC:
                out.append(_ESC[e])
                i += 2
            elif e == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
            elif e == "u":
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
            else:
                raise TemplateError(f"{where}: unknown escape \\{e}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(body: str, where: str):
    toks = []
    pos = 0
    while pos < len(body):
        m = TOKEN.match(body, pos)
        if not m:
            raise Unsupported(f"{where}: cannot read {body[pos:pos + 20]!r}")
        pos = m.end()
        k = m.lastgroup
        v = m.group()
        if k == "ws":
            continue
        if k == "char":
            raise Unsupported(f"{where}: character literal {v}")
        # A field chain right after ")" or an identifier is a method/field of a result.
        if k == "field" and toks and toks[-1] == ("punct", ")") and body[m.start() - 1] == ")":
            raise Unsupported(f"{where}: a field of a parenthesised result ({v})")
        toks.append((k, v))
    return toks


class Parser:
    def __init__(self, toks, where):
        self.toks = toks
        self.i = 0
        self.where = where

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def done(self):
        return self.i >= len(self.toks)

    def pipeline(self, allow_decl=True, multi_decl=False):
        decl = None
        # $x := … / $x = … / $i, $v := …
        if allow_decl and self.peek()[0] == "var":
            save = self.i
            names = [self.take()[1]]
            if multi_decl and self.peek() == ("punct", ","):
                self.take()
                if self.peek()[0] != "var":
                    raise TemplateError(f"{self.where}: expected a variable after ,")
                names.append(self.take()[1])
            op = self.peek()[0]
            if op in ("decl", "assign") and all("." not in n for n in names):
                self.take()
                decl = (names, op)
            else:
                self.i = save
        cmds = [self.command()]
        while self.peek() == ("punct", "|"):
            self.take()
            cmds.append(self.command())
        return ("pipe", decl, cmds)

    def command(self):
        args = []
        while True:
            k, v = self.peek()
            if k is None or (k == "punct" and v in ("|", ")")):
                break
            args.append(self.operand())
        if not args:
            raise TemplateError(f"{self.where}: empty command")
        return args

    def operand(self):
        k, v = self.take()
        if k == "str":
            return ("lit", unquote(v, self.where))
        if k == "raw":
            return ("lit", v[1:-1])
        if k == "num":
            return ("lit", float(v) if re.search(r"[.eE]", v) else int(v))
        if k == "var":
            parts = v.split(".")
            return ("var", parts[0], parts[1:])
        if k == "field":
            return ("field", [] if v == "." else v.split(".")[1:])
        if k == "ident":
            if v == "true":
                return ("lit", True)
            if v == "false":
                return ("lit", False)
            if v == "nil":
                return ("lit", None)
            if v in KEYWORDS:
                raise TemplateError(f"{self.where}: unexpected {v}")
            if v not in FUNCS and v not in SPECIAL:
                raise Unsupported(f"{self.where}: function {v!r} is outside the renderer's subset")
            return ("fn", v)
        if (k, v) == ("punct", "("):
            p = self.pipeline()
            if self.take() != ("punct", ")"):
                raise TemplateError(f"{self.where}: missing )")
            return ("sub", p)
        raise TemplateError(f"{self.where}: unexpected {v!r}")


def parse(src: str, name: str, defines: dict):
    """The template's node list; its define blocks go into `defines`."""
    items = split_actions(src, name)
    root = []
    stack = [("root", root, None)]  # (kind, current body list, node)

    for kind_, text, line in items:
        where = f"{name}:{line}"
        body = stack[-1][1]
        if kind_ == "text":
            if text:
                body.append(("text", text))
            continue
        toks = tokenize(text, where)
        if not toks:
            raise TemplateError(f"{where}: empty action")
        p = Parser(toks, where)
        head = toks[0]
        word = head[1] if head[0] == "ident" else None
        if word in ("if", "with", "range"):
            p.take()
            pipe = p.pipeline(multi_decl=(word == "range"))
            if not p.done():
                raise TemplateError(f"{where}: unexpected {p.peek()[1]!r}")
            node = {"kind": word, "branches": [(pipe, [])], "else": None, "where": where}
            body.append(node)
            stack.append((word, node["branches"][0][1], node))
        elif word == "else":
            top_kind, _, node = stack[-1]
            if top_kind not in ("if", "with", "range") or node["else"] is not None:
                raise TemplateError(f"{where}: else without if/with/range")
            p.take()
            if p.done():
                node["else"] = []
                stack[-1] = (top_kind, node["else"], node)
            else:
                k2 = p.take()
                if k2 != ("ident", top_kind) or top_kind == "range":
                    raise Unsupported(f"{where}: else {k2[1]} inside {top_kind}")
                pipe = p.pipeline()
                if not p.done():
                    raise TemplateError(f"{where}: unexpected {p.peek()[1]!r}")
                node["branches"].append((pipe, []))
                stack[-1] = (top_kind, node["branches"][-1][1], node)
        elif word == "end":
            if len(toks) != 1 or len(stack) == 1:
                raise TemplateError(f"{where}: unexpected end")
            top_kind, _, node = stack.pop()
            if top_kind == "define":
                defines[node["name"]] = node["body"]
        elif word == "define":
            if len(stack) != 1:
                raise TemplateError(f"{where}: define inside a block")
            if len(toks) != 2 or toks[1][0] not in ("str", "raw"):
                raise TemplateError(f"{where}: define needs one quoted name")
            node = {"name": unquote(toks[1][1], where) if toks[1][0] == "str" else toks[1][1][1:-1],
                    "body": []}
            stack.append(("define", node["body"], node))
        elif word in ("template", "block", "break", "continue"):
            raise Unsupported(f"{where}: {word} is outside the renderer's subset (use include)")
        else:
            pipe = p.pipeline()
            if not p.done():
                raise TemplateError(f"{where}: unexpected {p.peek()[1]!r}")
            body.append(("action", pipe, where))
    if len(stack) != 1:
        raise TemplateError(f"{name}: unclosed {stack[-1][0]}")
    return root


# ---------------------------------------------------------------------------
# Execution.
# ---------------------------------------------------------------------------


class Executor:
    def __init__(self, defines):
        self.defines = defines
        self.depth = 0

    def run(self, nodes, dot, scope):
        out = []
        self.block(nodes, dot, scope, out)
        return "".join(out)

    def block(self, nodes, dot, scope, out):
        mark = len(scope)
        for n in nodes:
            if isinstance(n, tuple):
                if n[0] == "text":
                    out.append(n[1])
                else:
                    v = self.pipe(n[1], dot, scope, n[2])
                    if n[1][1] is None:  # {{ $x := … }} prints nothing
                        out.append(self.show(v, n[2]))
                continue
            k = n["kind"]
            where = n["where"]
            if k == "if":
                for pipe, body in n["branches"]:
                    inner = len(scope)
                    if truth(self.pipe(pipe, dot, scope, where)):
                        self.block(body, dot, scope, out)
                        del scope[inner:]
                        break
                    del scope[inner:]
                else:
                    if n["else"] is not None:
                        self.block(n["else"], dot, scope, out)
            elif k == "with":
                for pipe, body in n["branches"]:
                    inner = len(scope)
                    v = self.pipe(pipe, dot, scope, where)
                    if truth(v):
                        self.block(body, v, scope, out)
                        del scope[inner:]
                        break
                    del scope[inner:]
                else:
                    if n["else"] is not None:
                        self.block(n["else"], dot, scope, out)
            elif k == "range":
                pipe, body = n["branches"][0]
                decl = pipe[1]
                v = self.pipe(("pipe", None, pipe[2]), dot, scope, where)
                if v is None:
                    items = []
                elif isinstance(v, list):
                    items = list(enumerate(v))
                elif isinstance(v, dict):
                    items = sorted(v.items())
                else:
                    raise Unsupported(f"{where}: range over {go_type(v)}")
                if not items and n["else"] is not None:
                    self.block(n["else"], dot, scope, out)
                for key, elem in items:
                    inner = len(scope)
                    if decl:
                        names = decl[0]
                        if len(names) == 1:
                            scope.append((names[0], elem))
                        else:
                            scope.append((names[0], key))
                            scope.append((names[1], elem))
                    self.block(body, elem, scope, out)
                    del scope[inner:]
        # Variables live until the end of the block that declared them.
        del scope[mark:]

    def show(self, v, where):
        try:
            return strval(v)
        except TemplateError as e:
            raise TemplateError(f"{where}: {e}") from None

    def lookup(self, scope, name, where):
        for n, v in reversed(scope):
            if n == name:
                return v
        raise TemplateError(f"{where}: undefined variable {name}")

    def fields(self, v, chain, where, shown):
        for f in chain:
            if v is None:
                raise TemplateError(f"{where}: nil pointer evaluating interface {{}}.{f} ({shown})")
            if isinstance(v, dict):
                v = v.get(f)
            elif isinstance(v, Struct):
                try:
                    v = v.get(f)
                except TemplateError as e:
                    raise TemplateError(f"{where}: {e}") from None
            else:
                raise TemplateError(f"{where}: can't evaluate field {f} in type {go_type(v)}")
        return v

    def pipe(self, pipe, dot, scope, where):
        _, decl, cmds = pipe
        v = None
        for i, cmd in enumerate(cmds):
            v = self.command(cmd, dot, scope, where, piped=(i > 0), prev=v)
        if decl:
            names, op = decl
            if len(names) != 1:
                raise TemplateError(f"{where}: two variables outside range")
            if op == "decl":
                scope.append((names[0], v))
            else:
                for idx in range(len(scope) - 1, -1, -1):
                    if scope[idx][0] == names[0]:
                        scope[idx] = (names[0], v)
                        break
                else:
                    raise TemplateError(f"{where}: undefined variable {names[0]}")
        return v

    def operand(self, op, dot, scope, where):
        t = op[0]
        if t == "lit":
            return op[1]
        if t == "field":
            return self.fields(dot, op[1], where, "." + ".".join(op[1]))
        if t == "var":
            return self.fields(self.lookup(scope, op[1], where), op[2], where,
                               ".".join([op[1]] + op[2]))
        if t == "sub":
            return self.pipe(op[1], dot, scope, where)
        if t == "fn":
            return self.call(op[1], [], dot, scope, where)
        raise TemplateError(f"{where}: bad operand")

    def command(self, cmd, dot, scope, where, piped, prev):
        first = cmd[0]
        if first[0] == "fn":
            return self.call(first[1], cmd[1:], dot, scope, where, piped, prev)
        if len(cmd) > 1 or piped:
            raise TemplateError(f"{where}: can't give an argument to a non-function")
        return self.operand(first, dot, scope, where)

    def call(self, name, arg_ops, dot, scope, where, piped=False, prev=None):
        def args():
            a = [self.operand(o, dot, scope, where) for o in arg_ops]
            if piped:
                a.append(prev)
            return a

        if name in ("and", "or"):
            ops = list(arg_ops)
            if not ops and not piped:
                raise TemplateError(f"{where}: {name} needs arguments")
            v = None
            values = (self.operand(o, dot, scope, where) for o in ops)
            if piped:
                values = _chain(values, prev)
            for v in values:
                if (name == "and") != truth(v):
                    return v
            return v
        if name == "include":
            a = args()
            if len(a) != 2 or kind(a[0]) != "string":
                raise TemplateError(f"{where}: include needs a template name and a value")
            body = self.defines.get(a[0])
            if body is None:
                raise TemplateError(f"{where}: no template {a[0]!r} (include)")
            self.depth += 1
            if self.depth > 100:
                raise TemplateError(f"{where}: include nested too deep")
            try:
                return self.run(body, a[1], [("$", a[1])])
            finally:
                self.depth -= 1
        fn = FUNCS[name]
        a = args()
        try:
            return fn(*a)
        except Fail:
            raise
        except Unsupported as e:
            raise Unsupported(f"{where}: {e}") from None
        except TemplateError as e:
            raise TemplateError(f"{where}: {e}") from None
        except TypeError as e:
            raise TemplateError(f"{where}: error calling {name}: wrong number of arguments ({e})") from None


def _chain(gen, last):
    yield from gen
    yield last


# ---------------------------------------------------------------------------
# Charts.
# ---------------------------------------------------------------------------


def merge(base, over):
    """Helm's coalescing: maps merge deeply; a null removes the key."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def set_value(values, assignment):
    """--set a.b=c (one level of Helm's --set: dotted keys, scalars, {a,b} lists)."""
    key, _, raw = assignment.partition("=")
    if raw.startswith("{") and raw.endswith("}"):
        val = [yaml.safe_load(x) for x in raw[1:-1].split(",") if x]
    elif raw == "null":
        val = None
    else:
        val = yaml.safe_load(raw) if raw else ""
        if isinstance(val, (dict, list)):
            val = raw
    node = {}
    cur = node
    parts = key.split(".")
    for p in parts[:-1]:
        cur[p] = {}
        cur = cur[p]
    # --set ints are int64 in Helm; keep them ints.
    cur[parts[-1]] = val
    return merge(values, node)


CHART_FIELDS = {"name": "Name", "version": "Version", "appVersion": "AppVersion",
                "description": "Description", "apiVersion": "APIVersion", "type": "Type",
                "kubeVersion": "KubeVersion", "keywords": "Keywords"}


def chart_values(chart_dir, overrides=(), sets=()):
    """Chart.yaml, and values.yaml with the overrides merged over it."""
    with open(os.path.join(chart_dir, "Chart.yaml")) as f:
        meta = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "values.yaml")) as f:
        values = go_floats(yaml.safe_load(f) or {})
    for o in overrides:
        values = merge(values, go_floats(o))
    for s in sets:
        values = set_value(values, s)
    return meta, values


def render_chart(chart_dir, overrides=(), sets=(), release="sauve", namespace="default"):
    """Render like `helm template`: {template path: text}, and NOTES.txt's text.

    overrides: dicts merged over values.yaml in order (like -f files, numbers as
    float64); sets: "a.b=value" strings (like --set). Raises Fail when the
    chart refuses the values, TemplateError/Unsupported for template errors.
    """
    meta, values = chart_values(chart_dir, overrides, sets)
    chart = Struct("*chart.Metadata", **{v: meta.get(k) for k, v in CHART_FIELDS.items()})
    rel = Struct("chartutil.ReleaseOptions", Name=release, Namespace=namespace,
                 Service="Helm", IsInstall=True, IsUpgrade=False, Revision=1)
    tdir = os.path.join(chart_dir, "templates")
    files = sorted(os.listdir(tdir))
    defines = {}
    parsed = {}
    for fn in files:
        path = os.path.join(tdir, fn)
        if not os.path.isfile(path):
            raise Unsupported(f"templates/{fn}: subdirectories of templates/ are not rendered here")
        with open(path) as f:
            parsed[fn] = parse(f.read(), f"templates/{fn}", defines)
    out = {}
    notes = None
    ex = Executor(defines)
    for fn in files:
        if fn.startswith("_"):
            continue
        name = f"{meta['name']}/templates/{fn}"
        top = Struct("map[string]interface {}", Values=values, Release=rel, Chart=chart,
                     Template=Struct("chartutil.Template", Name=name,
                                     BasePath=f"{meta['name']}/templates"))
        text = ex.run(parsed[fn], top, [("$", top)])
        if fn == "NOTES.txt":
            notes = text
        else:
            out[f"templates/{fn}"] = text
    return out, notes


def split_documents(text):
    """Helm's SplitManifests: documents separated by --- lines; blank ones dropped."""
    docs = re.split(r"(?:^|\s*\n)---\s*", text)
    return [d for d in docs if d.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Render a chart like `helm template` (a subset).")
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--name", default="sauve")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--notes", action="store_true", help="print NOTES.txt too")
    a = ap.parse_args(argv)
    overrides = []
    for p in a.values:
        with open(p) as f:
            overrides.append(yaml.safe_load(f) or {})
    try:
        out, notes = render_chart(a.chart, overrides, a.set, a.name, a.namespace)
    except Fail as e:
        print(f"Error: execution error: {e}", file=sys.stderr)
        return 1
    except TemplateError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    for path, text in out.items():
        for doc in split_documents(text):
            print(f"---\n# Source: {path}\n{doc.strip(chr(10))}")
    if a.notes and notes:
        print(f"\nNOTES:\n{notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
