#!/usr/bin/env python3
"""Generate the action-module tables from schemas/actions/*.json.

Every action module is described once, as data, in schemas/actions/<Action>.json.
This script checks those files strictly and derives from them:

  interpreter/specs.c                      the C tables declared in interpreter/action_spec.h
  interpreter/action_ids.h                 enum action_id: one constant per action, the
                                           index of its entry in those tables
  schemas/component-document.schema.json   a JSON Schema (draft-07) of a whole component
                                           document, for editors and the YAML language server

Usage:
  scripts/gen-action-specs.py            regenerate the three files
  scripts/gen-action-specs.py --check    exit 1 if any file differs from what would be
                                         generated (used by the test suite), 0 if all are fresh

Only the Python standard library is used; the output is deterministic.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTIONS_DIR = os.path.join("schemas", "actions")
SPECS_C = os.path.join("interpreter", "specs.c")
IDS_H = os.path.join("interpreter", "action_ids.h")
DOC_SCHEMA = os.path.join("schemas", "component-document.schema.json")

PLATFORMS = {"linux": "PLAT_LINUX", "windows": "PLAT_WINDOWS", "darwin": "PLAT_DARWIN"}
PLATFORM_ORDER = ["linux", "windows", "darwin"]
SHAPES = {"map": "SHAPE_MAP", "list": "SHAPE_LIST", "expression": "SHAPE_EXPRESSION"}
# Order matches the bit order of the ACT_* flags in action_spec.h.
FLAGS = {
    "inputsOptional": "ACT_INPUTS_OPTIONAL",
    "extension": "ACT_EXTENSION",
    "forcedOnce": "ACT_FORCED_ONCE",
    "noTimeout": "ACT_NO_TIMEOUT",
    "spawns": "ACT_SPAWNS",
    "network": "ACT_NETWORK",
    "reboots": "ACT_REBOOTS",
}
TYPES = {
    "string": "IN_STRING",
    "boolean": "IN_BOOL",
    "integer": "IN_INT",
    "stringList": "IN_STRING_LIST",
    "nameValueList": "IN_NAME_VALUE_LIST",
    "stringMap": "IN_STRING_MAP",
    "any": "IN_ANY",
}

ACTION_KEYS = {"action", "description", "platforms", "inputsShape", "flags", "inputs",
               "exactlyOneOf", "outputs"}
ACTION_REQUIRED = {"action", "description", "platforms", "inputsShape", "flags", "inputs",
                   "outputs"}
INPUT_KEYS = {"name", "type", "required", "enum", "enumCaseInsensitive", "default",
              "platforms", "noTemplate", "extension", "description"}
INPUT_REQUIRED = {"name", "type", "description"}

ACTION_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
INPUT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
OUTPUT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SpecError(Exception):
    pass


# --------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------

def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise SpecError("duplicate key %r" % k)
        obj[k] = v
    return obj


def _reject_constant(name):
    raise SpecError("non-standard JSON constant %s" % name)


def _is_str(v):
    return isinstance(v, str)


def _is_bool(v):
    return isinstance(v, bool)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_scalar(v):
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _is_str_list(v):
    return isinstance(v, list) and all(_is_str(x) for x in v)


def _check_description(where, v):
    if not _is_str(v) or not v.strip():
        raise SpecError("%s: \"description\" must be a non-empty string" % where)
    if v != v.strip():
        raise SpecError("%s: \"description\" has leading or trailing whitespace" % where)
    if any(ord(c) < 0x20 for c in v):
        raise SpecError("%s: \"description\" contains a control character" % where)


def _check_platforms(where, v):
    if not isinstance(v, list) or not v:
        raise SpecError("%s: \"platforms\" must be a non-empty list" % where)
    for p in v:
        if p not in PLATFORMS:
            raise SpecError("%s: unknown platform %r (expected one of %s)"
                            % (where, p, ", ".join(PLATFORM_ORDER)))
    if len(set(v)) != len(v):
        raise SpecError("%s: duplicate entry in \"platforms\"" % where)


def _default_matches(typ, v):
    if typ == "string":
        return _is_str(v)
    if typ == "boolean":
        return _is_bool(v)
    if typ == "integer":
        return _is_int(v)
    if typ == "stringList":
        return _is_str_list(v)
    if typ == "nameValueList":
        return isinstance(v, list) and all(
            isinstance(e, dict) and set(e) == {"name", "value"}
            and _is_str(e["name"]) and _is_str(e["value"]) for e in v)
    if typ == "stringMap":
        return isinstance(v, dict) and all(_is_str(x) for x in v.values())
    if typ == "any":
        return _is_scalar(v) or (isinstance(v, list) and all(_is_scalar(x) for x in v))
    return False


def _check_keys(where, obj, allowed, required, name_key, name_re):
    """The keys of an action or input object: none unknown, none missing,
    and obj[name_key] a string matching name_re, which is returned."""
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SpecError("%s: unknown key(s) %s" % (where, ", ".join(map(repr, unknown))))
    missing = sorted(required - set(obj))
    if missing:
        raise SpecError("%s: missing key(s) %s" % (where, ", ".join(map(repr, missing))))
    name = obj[name_key]
    if not _is_str(name) or not name_re.match(name):
        raise SpecError("%s: \"%s\" must be a string matching %s" % (where, name_key, name_re.pattern))
    return name


def _check_input(where, inp, action_platforms):
    if not isinstance(inp, dict):
        raise SpecError("%s: must be an object" % where)
    name = _check_keys(where, inp, INPUT_KEYS, INPUT_REQUIRED, "name", INPUT_NAME_RE)
    where = "%s (%s)" % (where, name)
    typ = inp["type"]
    if typ not in TYPES:
        raise SpecError("%s: unknown type %r (expected one of %s)"
                        % (where, typ, ", ".join(sorted(TYPES))))
    for key in ("required", "enumCaseInsensitive", "noTemplate", "extension"):
        if key in inp and not _is_bool(inp[key]):
            raise SpecError("%s: %r must be true or false" % (where, key))
    _check_description(where, inp["description"])
    if inp.get("required") and "default" in inp:
        raise SpecError("%s: a required input cannot have a default" % where)
    if "enum" in inp:
        values = inp["enum"]
        if typ != "string":
            raise SpecError("%s: \"enum\" is only allowed on string inputs" % where)
        if not _is_str_list(values) or not values or not all(values):
            raise SpecError("%s: \"enum\" must be a non-empty list of non-empty strings" % where)
        nocase = inp.get("enumCaseInsensitive", False)
        folded = [v.lower() for v in values] if nocase else values
        if len(set(folded)) != len(folded):
            raise SpecError("%s: duplicate value in \"enum\"%s"
                            % (where, " (compared case-insensitively)" if nocase else ""))
    elif "enumCaseInsensitive" in inp:
        raise SpecError("%s: \"enumCaseInsensitive\" without \"enum\"" % where)
    if "default" in inp:
        d = inp["default"]
        if not _default_matches(typ, d):
            raise SpecError("%s: default %s does not have type %s"
                            % (where, json.dumps(d), typ))
        if "enum" in inp and d not in inp["enum"]:
            raise SpecError("%s: default %s is not one of the enum values"
                            % (where, json.dumps(d)))
    if "platforms" in inp:
        _check_platforms(where, inp["platforms"])
        extra = [p for p in inp["platforms"] if p not in action_platforms]
        if extra:
            raise SpecError("%s: platform(s) %s are not platforms of the action"
                            % (where, ", ".join(extra)))
        if set(inp["platforms"]) == set(action_platforms):
            raise SpecError("%s: \"platforms\" equals the action's platforms; leave it out" % where)


def check_action(path, spec):
    """Validates one parsed schemas/actions/*.json file; raises SpecError."""
    where = path
    if not isinstance(spec, dict):
        raise SpecError("%s: top level must be an object" % where)
    name = _check_keys(where, spec, ACTION_KEYS, ACTION_REQUIRED, "action", ACTION_NAME_RE)
    if os.path.basename(path) != name + ".json":
        raise SpecError("%s: file name must be %s.json (the \"action\" value)" % (where, name))
    _check_description(where, spec["description"])
    _check_platforms(where, spec["platforms"])
    shape = spec["inputsShape"]
    if shape not in SHAPES:
        raise SpecError("%s: unknown inputsShape %r (expected one of %s)"
                        % (where, shape, ", ".join(sorted(SHAPES))))
    flags = spec["flags"]
    if not isinstance(flags, list):
        raise SpecError("%s: \"flags\" must be a list" % where)
    for f in flags:
        if f not in FLAGS:
            raise SpecError("%s: unknown flag %r (expected any of %s)"
                            % (where, f, ", ".join(sorted(FLAGS))))
    if len(set(flags)) != len(flags):
        raise SpecError("%s: duplicate entry in \"flags\"" % where)
    if "forcedOnce" in flags and "noTimeout" in flags:
        raise SpecError("%s: flags forcedOnce and noTimeout contradict each other" % where)

    inputs = spec["inputs"]
    if not isinstance(inputs, list):
        raise SpecError("%s: \"inputs\" must be a list" % where)
    if shape == "expression" and inputs:
        raise SpecError("%s: an expression-shaped action takes no \"inputs\" entries" % where)
    if shape != "expression" and not inputs:
        raise SpecError("%s: a %s-shaped action needs at least one input" % (where, shape))
    seen = set()
    for i, inp in enumerate(inputs):
        _check_input("%s: inputs[%d]" % (where, i), inp, spec["platforms"])
        if inp["name"] in seen:
            raise SpecError("%s: duplicate input name %r" % (where, inp["name"]))
        seen.add(inp["name"])
    if "inputsOptional" in flags and any(i.get("required") for i in inputs):
        raise SpecError("%s: flag inputsOptional with a required input" % where)

    if "exactlyOneOf" in spec:
        groups = spec["exactlyOneOf"]
        if shape == "expression":
            raise SpecError("%s: \"exactlyOneOf\" needs named inputs" % where)
        if not isinstance(groups, list) or not groups:
            raise SpecError("%s: \"exactlyOneOf\" must be a non-empty list of groups" % where)
        byname = {i["name"]: i for i in inputs}
        for g in groups:
            if not _is_str_list(g) or len(g) < 2:
                raise SpecError("%s: each \"exactlyOneOf\" group must list at least two input names"
                                % where)
            if len(set(g)) != len(g):
                raise SpecError("%s: duplicate name in \"exactlyOneOf\" group %s"
                                % (where, json.dumps(g)))
            for n in g:
                if n not in byname:
                    raise SpecError("%s: \"exactlyOneOf\" names %r, which is not an input"
                                    % (where, n))
            for n in g:
                if byname[n].get("required"):
                    raise SpecError("%s: %r is in an \"exactlyOneOf\" group, so it cannot be"
                                    " required" % (where, n))
                if "default" in byname[n]:
                    raise SpecError("%s: %r is in an \"exactlyOneOf\" group, so it cannot have"
                                    " a default" % (where, n))

    outputs = spec["outputs"]
    if not isinstance(outputs, list):
        raise SpecError("%s: \"outputs\" must be a list" % where)
    for o in outputs:
        if not _is_str(o) or not OUTPUT_NAME_RE.match(o):
            raise SpecError("%s: output %r must be a string matching %s"
                            % (where, o, OUTPUT_NAME_RE.pattern))
    if len(set(outputs)) != len(outputs):
        raise SpecError("%s: duplicate entry in \"outputs\"" % where)


def load_actions(root):
    adir = os.path.join(root, ACTIONS_DIR)
    try:
        names = sorted(n for n in os.listdir(adir) if n.endswith(".json"))
    except OSError as e:
        raise SpecError("cannot list %s: %s" % (adir, e))
    if not names:
        raise SpecError("no action files in %s" % adir)
    specs = []
    for n in names:
        rel = os.path.join(ACTIONS_DIR, n)
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise SpecError("%s: cannot read: %s" % (rel, e))
        try:
            spec = json.loads(text, object_pairs_hook=_no_duplicate_keys,
                              parse_constant=_reject_constant)
        except SpecError as e:
            raise SpecError("%s: %s" % (rel, e))
        except ValueError as e:
            raise SpecError("%s: invalid JSON: %s" % (rel, e))
        check_action(rel, spec)
        specs.append(spec)
    specs.sort(key=lambda s: s["action"].encode("utf-8"))
    return specs


# --------------------------------------------------------------------------
# interpreter/specs.c and interpreter/action_ids.h
# --------------------------------------------------------------------------

def c_string(s):
    """A C string literal holding the UTF-8 bytes of s."""
    out = ['"']
    prev = None
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "?" and prev == "?":
            out.append("\\?")  # never form a trigraph (-std=c11 enables them)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)
        prev = c
    out.append('"')
    return "".join(out)


def c_ident(s):
    return re.sub(r"[^A-Za-z0-9]", "_", s)


def _mask(names, table, order, zero="0"):
    parts = [table[n] for n in order if n in names]
    return " | ".join(parts) if parts else zero


def _platform_mask(platforms):
    if set(platforms) == set(PLATFORMS):
        return "PLAT_ALL"
    return _mask(platforms, PLATFORMS, PLATFORM_ORDER)


def _compact_json(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=True, sort_keys=True)


def action_id(name):
    return "ACTION_ID_" + c_ident(name)


SPECS_ABOUT = """\
Every action has a NULL-terminated `outputs` array and a NULL-terminated
`exactly_one_of` array, possibly empty; `fields` is NULL only when
n_fields is 0.""".splitlines()
IDS_ABOUT = """\
One constant per action, validated or implemented, in strcmp order of
the names: the index of the action's entry in action_specs[] (specs.c)
and in the module registry (modules/registry.c), and the C operand of
ACT (opcodes.h).  The numbers change when an action is added, so they
never leave the process: a .otc file names its actions.""".splitlines()


def _c_file(rel, about):
    """A generated C file's lines, opening with its comment (what made it,
    then `about`) and the line after it: returns the list and its append."""
    L = []
    w = L.append
    # Line comments: a block comment could not mention "schemas/actions/*.json".
    w("// %s: GENERATED by scripts/gen-action-specs.py from" % rel.replace(os.sep, "/"))
    w("// schemas/actions/*.json.  Do not edit by hand: change the JSON files and")
    w("// run the script again (the test suite runs it with --check).")
    w("//")
    for line in about:
        w("// " + line)
    w("")
    return L, w


def gen_ids_h(specs):
    L, w = _c_file(IDS_H, IDS_ABOUT)
    w("#pragma once")
    w("")
    w("enum action_id {")
    for s in specs:
        w("        %s," % action_id(s["action"]))
    w("        _ACTION_ID_MAX,")
    w("};")
    return "\n".join(L) + "\n"


def gen_specs_c(specs):
    L, w = _c_file(SPECS_C, SPECS_ABOUT)
    w("#include \"action_spec.h\"")
    w("")

    # Enum value arrays, shared between inputs with identical value lists.
    enum_names = {}
    enum_users = {}
    enum_order = []
    for s in specs:
        for inp in s["inputs"]:
            if "enum" in inp:
                key = tuple(inp["enum"])
                if key not in enum_names:
                    enum_names[key] = "enum_values_%d" % len(enum_order)
                    enum_order.append(key)
                    enum_users[key] = []
                enum_users[key].append("%s.%s" % (s["action"], inp["name"]))
    if enum_order:
        w("/* Enum values. */")
        w("")
    for key in enum_order:
        users = enum_users[key]
        w("/* %s */" % ", ".join(users))
        w("static const char *const %s[] = {" % enum_names[key])
        for v in key:
            w("        %s," % c_string(v))
        w("        NULL,")
        w("};")
        w("")

    w("static const char *const no_outputs[] = { NULL };")
    w("static const char *const *const no_exactly_one_of[] = { NULL };")
    w("")

    for s in specs:
        a = s["action"]
        ident = c_ident(a)
        if s["inputs"] or s.get("exactlyOneOf") or s["outputs"]:
            w("/* %s */" % a)
            w("")
        if s["inputs"]:
            w("static const struct input_field fields_%s[] = {" % ident)
            for inp in s["inputs"]:
                flags = []
                if inp.get("required"):
                    flags.append("INF_REQUIRED")
                if inp.get("enumCaseInsensitive"):
                    flags.append("INF_ENUM_NOCASE")
                if inp.get("noTemplate"):
                    flags.append("INF_NO_TEMPLATE")
                if inp.get("extension"):
                    flags.append("INF_EXTENSION")
                w("        {")
                w("                .name = %s," % c_string(inp["name"]))
                w("                .type = %s," % TYPES[inp["type"]])
                w("                .flags = %s," % (" | ".join(flags) if flags else "0"))
                w("                .platforms = %s,"
                  % (_platform_mask(inp["platforms"]) if "platforms" in inp else "0"))
                w("                .enum_values = %s,"
                  % (enum_names[tuple(inp["enum"])] if "enum" in inp else "NULL"))
                w("                .default_json = %s,"
                  % (c_string(_compact_json(inp["default"])) if "default" in inp else "NULL"))
                w("                .description = %s," % c_string(inp["description"]))
                w("        },")
            w("};")
            w("")
        groups = s.get("exactlyOneOf", [])
        for gi, g in enumerate(groups):
            w("static const char *const exactly_one_of_%s_%d[] = { %s, NULL };"
              % (ident, gi, ", ".join(c_string(n) for n in g)))
        if groups:
            w("static const char *const *const exactly_one_of_%s[] = { %s, NULL };"
              % (ident, ", ".join("exactly_one_of_%s_%d" % (ident, gi)
                                  for gi in range(len(groups)))))
            w("")
        if s["outputs"]:
            w("static const char *const outputs_%s[] = { %s, NULL };"
              % (ident, ", ".join(c_string(o) for o in s["outputs"])))
            w("")

    w("const struct action_spec action_specs[_ACTION_ID_MAX] = {")
    for s in specs:
        ident = c_ident(s["action"])
        w("        [%s] = {" % action_id(s["action"]))
        w("                .id = %s," % action_id(s["action"]))
        w("                .name = %s," % c_string(s["action"]))
        w("                .platforms = %s," % _platform_mask(s["platforms"]))
        w("                .flags = %s," % _mask(s["flags"], FLAGS, list(FLAGS)))
        w("                .shape = %s," % SHAPES[s["inputsShape"]])
        if s["inputs"]:
            w("                .fields = fields_%s," % ident)
            w("                .n_fields = sizeof fields_%s / sizeof fields_%s[0],"
              % (ident, ident))
        else:
            w("                .fields = NULL,")
            w("                .n_fields = 0,")
        w("                .exactly_one_of = %s,"
          % ("exactly_one_of_%s" % ident if s.get("exactlyOneOf") else "no_exactly_one_of"))
        w("                .outputs = %s,"
          % ("outputs_%s" % ident if s["outputs"] else "no_outputs"))
        w("                .description = %s," % c_string(s["description"]))
        w("        },")
    w("};")
    w("")
    w("const size_t n_action_specs = sizeof action_specs / sizeof action_specs[0];")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------
# schemas/component-document.schema.json
# --------------------------------------------------------------------------

STRING_OPERATORS_1 = ["stringIsEmpty", "stringIsWhitespace"]
STRING_OPERATORS_2 = ["stringEquals", "stringLessThan", "stringLessThanEquals",
                      "stringGreaterThan", "stringGreaterThanEquals", "patternMatches"]
NUMBER_OPERATORS = ["numberEquals", "numberLessThan", "numberLessThanEquals",
                    "numberGreaterThan", "numberGreaterThanEquals"]
FILE_OPERATORS_1 = ["binaryExists", "fileExists", "folderExists"]
HASH_OPERATORS = ["fileMD5Equals", "fileSHA1Equals", "fileSHA256Equals", "fileSHA512Equals"]
OPERATOR_DESCRIPTIONS = {
    "stringIsEmpty": "True when the string has no characters.",
    "stringIsWhitespace": "True when the string is made of spaces only (an empty string is not).",
    "stringEquals": "True when `value` equals this string.",
    "stringLessThan": "True when `value` sorts before this string.",
    "stringLessThanEquals": "True when `value` sorts before or equals this string.",
    "stringGreaterThan": "True when `value` sorts after this string.",
    "stringGreaterThanEquals": "True when `value` sorts after or equals this string.",
    "patternMatches": "True when `value` matches this regular expression (RE2 syntax).",
    "numberEquals": "True when `value` equals this number.",
    "numberLessThan": "True when `value` is less than this number.",
    "numberLessThanEquals": "True when `value` is less than or equal to this number.",
    "numberGreaterThan": "True when `value` is greater than this number.",
    "numberGreaterThanEquals": "True when `value` is greater than or equal to this number.",
    "binaryExists": "True when this program can be found on the PATH.",
    "fileExists": "True when this path exists and is a file.",
    "folderExists": "True when this path exists and is a folder.",
    "fileMD5Equals": "True when the MD5 hash of the file at `path` is this value.",
    "fileSHA1Equals": "True when the SHA-1 hash of the file at `path` is this value.",
    "fileSHA256Equals": "True when the SHA-256 hash of the file at `path` is this value.",
    "fileSHA512Equals": "True when the SHA-512 hash of the file at `path` is this value.",
}
MAX_LOGICAL_DEPTH = 4
LOOP_DELIMITERS = [".", ",", ";", ":", "\n", "\t", " ", "-", "_"]


def _ref(name):
    return {"$ref": "#/definitions/" + name}


def _nocase_pattern(values):
    def one(v):
        out = []
        for c in v:
            if c.isalpha() and c.lower() != c.upper():
                out.append("[%s%s]" % (c.upper(), c.lower()))
            else:
                # Escape only what is special in an ECMA-262 pattern; identity
                # escapes such as "\\-" are errors under the "u" flag.
                out.append("\\" + c if c in "\\^$.|?*+()[]{}/" else c)
        return "".join(out)
    return "^(?:%s)$" % "|".join(one(v) for v in values)


def _input_value_schema(inp):
    """Schema of one input's value."""
    typ = inp["type"]
    template = not inp.get("noTemplate", False)
    alts = []
    if typ == "string":
        if "enum" in inp:
            alts.append({"type": "string", "enum": list(inp["enum"])})
            if inp.get("enumCaseInsensitive"):
                alts.append({"type": "string", "pattern": _nocase_pattern(inp["enum"])})
        else:
            alts.append(_ref("scalar"))
    elif typ == "boolean":
        alts.append(_ref("boolean"))
    elif typ == "integer":
        alts.append(_ref("integer"))
    elif typ == "stringList":
        alts.append({"type": "array", "items": _ref("scalar")})
    elif typ == "nameValueList":
        alts.append({"type": "array", "items": _ref("nameValue")})
    elif typ == "stringMap":
        alts.append({"type": "object", "additionalProperties": _ref("scalar")})
    elif typ == "any":
        alts.append(_ref("scalar"))
        alts.append({"type": "array", "items": _ref("scalar")})
    if template and not (typ == "string" and "enum" not in inp):
        alts.append(_ref("reference"))
    schema = alts[0] if len(alts) == 1 else {"anyOf": alts}
    if "$ref" in schema:
        # draft-07 ignores siblings of $ref; wrap so the annotations survive.
        schema = {"allOf": [schema]}
    desc = inp["description"]
    if "platforms" in inp:
        desc += " (%s only.)" % " and ".join(
            {"linux": "Linux", "windows": "Windows", "darwin": "macOS"}[p]
            for p in PLATFORM_ORDER if p in inp["platforms"])
    schema["description"] = desc
    if "default" in inp:
        schema["default"] = inp["default"]
    return schema


def _inputs_object_schema(spec):
    obj = {
        "type": "object",
        "properties": {i["name"]: _input_value_schema(i) for i in spec["inputs"]},
    }
    required = sorted(i["name"] for i in spec["inputs"] if i.get("required"))
    if required:
        obj["required"] = required
    groups = spec.get("exactlyOneOf", [])
    if len(groups) == 1:
        obj["oneOf"] = [{"required": [n]} for n in groups[0]]
    elif groups:
        obj["allOf"] = [{"oneOf": [{"required": [n]} for n in g]} for g in groups]
    return obj


def _action_rule(spec):
    name = spec["action"]
    then = {"properties": {}}
    shape = spec["inputsShape"]
    if shape == "expression":
        then["properties"]["inputs"] = _ref("expression")
    elif shape == "map":
        then["properties"]["inputs"] = _ref("inputs." + name)
    else:
        then["properties"]["inputs"] = {"type": "array", "minItems": 1,
                                        "items": _ref("inputs." + name)}
    if "inputsOptional" not in spec["flags"]:
        then["required"] = ["inputs"]
    else:
        # An empty `inputs:` key reads as null; it means the same as no inputs.
        then["properties"]["inputs"] = {"anyOf": [then["properties"]["inputs"],
                                                  {"type": "null"}]}
    if "forcedOnce" in spec["flags"]:
        then["properties"]["timeoutSeconds"] = {
            "const": -1, "description": "%s always runs without a timeout." % name}
        then["properties"]["maxAttempts"] = {
            "const": 1, "description": "%s always runs exactly once." % name}
    if "noTimeout" in spec["flags"]:
        then["properties"]["timeoutSeconds"] = False
    return {"if": {"properties": {"action": {"const": name}}, "required": ["action"]},
            "then": then}


def _named_variable(required, properties):
    """A parameter or constant: a mapping of one variable name to an
    object with these properties."""
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": _ref("variableName"),
        "additionalProperties": {"type": "object", "required": required, "properties": properties},
    }


def _comparison_schemas():
    # (operators, the type of the operator's own operand, the other key each needs)
    kinds = [(STRING_OPERATORS_1, "scalar", None),
             (STRING_OPERATORS_2, "scalar", "value"),
             (NUMBER_OPERATORS, "number", "value"),
             (FILE_OPERATORS_1, "scalar", None),
             (HASH_OPERATORS, "scalar", "path")]
    out = []
    for ops, operand, other in kinds:
        for op in ops:
            props = {op: {"description": OPERATOR_DESCRIPTIONS[op], "allOf": [_ref(operand)]}}
            if other:
                props[other] = _ref("scalar")
            out.append({"properties": props, "required": [op, other] if other else [op], "type": "object"})
    return out


def _expression_definitions():
    """expression, expression.1 .. expression.4: an expression found inside that many
    logical operators; logical operators nest at most MAX_LOGICAL_DEPTH deep."""
    defs = {"comparison": {
        "description": "Exactly one comparison operator, with its `value` or `path` companion key"
                       " where the operator needs one.",
        "oneOf": _comparison_schemas(),
    }}

    def name(depth):
        return "expression" if depth == 0 else "expression.%d" % depth

    for depth in range(MAX_LOGICAL_DEPTH + 1):
        if depth == MAX_LOGICAL_DEPTH:
            defs[name(depth)] = {
                "description": "Logical operators nest at most %d levels deep; only a comparison"
                               " is allowed here." % MAX_LOGICAL_DEPTH,
                "allOf": [_ref("comparison")],
            }
            continue
        inner = _ref(name(depth + 1))
        defs[name(depth)] = {
            "description": "One comparison operator, or one logical operator (and, or, not).",
            "oneOf": [
                _ref("comparison"),
                {"type": "object", "required": ["and"], "properties": {"and": {
                    "description": "True when every listed expression is true.",
                    "type": "array", "minItems": 2, "items": inner}}},
                {"type": "object", "required": ["or"], "properties": {"or": {
                    "description": "True when any listed expression is true.",
                    "type": "array", "minItems": 2, "items": inner}}},
                {"type": "object", "required": ["not"], "properties": {"not": {
                    "description": "Negates one expression (written directly or as a one-item list).",
                    "anyOf": [inner, {"type": "array", "minItems": 1, "maxItems": 1,
                                      "items": inner}]}}},
            ],
        }
    return defs


def gen_document_schema(specs):
    names = sorted((s["action"] for s in specs), key=lambda n: n.encode("utf-8"))
    defs = {
        "scalar": {
            "description": "A scalar; numbers and booleans are read as their text.",
            "type": ["string", "number", "boolean"],
        },
        "reference": {
            "description": "A string holding a {{ }} variable or chaining reference.",
            "type": "string",
            "pattern": "\\{\\{.*\\}\\}",
        },
        "boolean": {
            "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["false", "true"]}],
        },
        "integer": {
            "anyOf": [{"type": "integer"},
                      {"type": "string", "pattern": "^[-+]?[0-9]+$"}],
        },
        "number": {
            "anyOf": [{"type": "number"},
                      {"type": "string", "pattern": "^[-+]?([0-9]+[.])?[0-9]+$"},
                      _ref("reference")],
        },
        "nameValue": {
            "type": "object",
            "required": ["name", "value"],
            "properties": {"name": _ref("scalar"), "value": _ref("scalar")},
        },
        "variableName": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{3,128}$",
        },
        "parameter": _named_variable(["type"], {
            "type": {"enum": ["string"], "description": "Type of the parameter."},
            "default": {"allOf": [_ref("scalar")],
                        "description": "Value used when the caller gives none."},
            "description": {"type": "string"},
        }),
        "constant": _named_variable(["type", "value"], {
            "type": {"enum": ["string"], "description": "Type of the constant."},
            "value": {"allOf": [_ref("scalar")],
                      "description": "Value of the constant."},
            "description": {"type": "string"},
        }),
        "loop": {
            "type": "object",
            "properties": {
                "name": {"type": "string",
                         "description": "Loop name, usable as {{ name.index }} and"
                                        " {{ name.value }}; unique within the phase."},
                "for": {
                    "type": "object",
                    "description": "Iterates over the integers from start to end inclusive.",
                    "required": ["end", "start", "updateBy"],
                    "properties": {
                        "start": _ref("integer"),
                        "end": _ref("integer"),
                        "updateBy": {"allOf": [_ref("integer"),
                                               {"not": {"enum": [0, "0", "+0", "-0"]}}],
                                     "description": "Added to the value after each iteration;"
                                                    " must not be 0."},
                    },
                },
                "forEach": {
                    "description": "Iterates over a list of strings, or over a delimited string.",
                    "anyOf": [
                        {"type": "array", "items": _ref("scalar")},
                        {"type": "object", "required": ["list"], "properties": {
                            "list": {"type": "string",
                                     "description": "Items joined by the delimiter."},
                            "delimiter": {"enum": LOOP_DELIMITERS, "default": ",",
                                          "description": "One character separating the items."},
                        }},
                    ],
                },
            },
            "oneOf": [{"required": ["for"]}, {"required": ["forEach"]}],
        },
        "ifBody": {
            "allOf": [
                _ref("expression"),
                {"properties": {
                    "then": {"enum": ["Abort", "Execute", "Skip"], "default": "Execute",
                             "description": "What to do when the expression is true."},
                    "else": {"enum": ["Abort", "Execute", "Skip"], "default": "Skip",
                             "description": "What to do when the expression is false."},
                }},
            ],
        },
        "step": {
            "type": "object",
            "required": ["action", "name"],
            "properties": {
                "name": {"type": "string", "description": "Step name, unique within the phase."},
                "action": {"enum": names, "description": "Action module the step runs."},
                "timeoutSeconds": {
                    "description": "Seconds before the step times out; -1 means no timeout.",
                    "default": 7200,
                    "anyOf": [{"type": "integer", "minimum": 1}, {"const": -1}],
                },
                "onFailure": {"enum": ["Abort", "Continue", "Ignore"], "default": "Abort",
                              "description": "What happens when the step fails."},
                "maxAttempts": {"type": "integer", "minimum": 1, "default": 1,
                                "description": "Total number of attempts before the step fails."},
                "inputs": {"description": "Inputs of the action module."},
                "loop": _ref("loop"),
                "if": {
                    "description": "Condition deciding whether the step runs.",
                    "anyOf": [_ref("ifBody"),
                              {"type": "array", "minItems": 1, "maxItems": 1,
                               "items": _ref("ifBody")}],
                },
                "disableLogging": {"allOf": [_ref("boolean")],
                                   "description": "Keep the step's output out of the logs."},
            },
            "allOf": [_action_rule(s) for s in specs],
        },
        "phase": {
            "type": "object",
            "required": ["name", "steps"],
            "properties": {
                "name": {"type": "string", "description": "Phase name, unique within the document."},
                "steps": {"type": "array", "items": _ref("step")},
            },
        },
    }
    defs.update(_expression_definitions())
    for s in specs:
        if s["inputsShape"] == "expression":
            continue
        d = _inputs_object_schema(s)
        d["description"] = s["description"]
        defs["inputs." + s["action"]] = d

    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "AWSTOE component document",
        "description": "A component document (schemaVersion 1.0) as run by opentoe and AWSTOE."
                       " Generated by scripts/gen-action-specs.py from schemas/actions/*.json;"
                       " do not edit by hand.",
        "type": "object",
        "required": ["phases", "schemaVersion"],
        "properties": {
            "name": {"allOf": [_ref("scalar")], "description": "Name of the document."},
            "description": {"allOf": [_ref("scalar")],
                            "description": "Description of the document."},
            "schemaVersion": {"enum": ["1.0", 1.0],
                              "description": "Document schema version; 1.0."},
            "parameters": {"type": "array", "items": _ref("parameter"),
                           "description": "Parameters the caller may set at run time."},
            "constants": {"type": "array", "items": _ref("constant"),
                          "description": "Named values that cannot be changed at run time."},
            "phases": {
                "type": "array",
                "minItems": 1,
                "items": _ref("phase"),
                "contains": {"type": "object", "required": ["name"], "properties": {
                    "name": {"enum": ["build", "test", "validate"]}}},
                "description": "Phases, run in document order; at least one of build,"
                               " validate and test must be present.",
            },
        },
        "definitions": defs,
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def generate(root):
    specs = load_actions(root)
    return {SPECS_C: gen_specs_c(specs), IDS_H: gen_ids_h(specs),
            DOC_SCHEMA: gen_document_schema(specs)}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate interpreter/specs.c,"
                                 " interpreter/action_ids.h and"
                                 " schemas/component-document.schema.json from"
                                 " schemas/actions/*.json.")
    ap.add_argument("--check", action="store_true",
                    help="only compare the generated text with the files on disk")
    ap.add_argument("--root", default=ROOT,
                    help="source tree to work in (default: the one holding this script)")
    args = ap.parse_args(argv)
    prog = "gen-action-specs"
    try:
        outputs = generate(args.root)
    except SpecError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2
    if args.check:
        stale = []
        for rel, text in sorted(outputs.items()):
            try:
                with open(os.path.join(args.root, rel), encoding="utf-8", newline="") as f:
                    current = f.read()
            except (OSError, UnicodeDecodeError):
                current = None
            if current != text:
                stale.append(rel)
        for rel in stale:
            print("%s: %s is stale; run scripts/gen-action-specs.py" % (prog, rel),
                  file=sys.stderr)
        return 1 if stale else 0
    for rel, text in sorted(outputs.items()):
        path = os.path.join(args.root, rel)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
