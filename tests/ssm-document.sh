#!/bin/bash
# ssm-document.sh: packaging/ssm/opentoe-run.json, the SSM Command document.
# Its shape is checked against what AWS documents for schema 2.2 (the
# top-level keys, each parameter's keys, type, default against its own
# allowedPattern and allowedValues, the one aws:runShellScript step and its
# inputs, every {{ }} naming a parameter); then its script is run with bash
# the way SSM Agent would run it, parameters filled in, against the built
# opentoe in the exit reboot mode: a document that asks for a reboot exits
# 194, the second run of the same command (after the "reboot") resumes the
# execution, and a third says it already ran.  Nothing reboots.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W ssm-document
doc_json=$top_srcdir/packaging/ssm/opentoe-run.json
mkdir -p "$W/bin"
ln -s "$OPENTOE" "$W/bin/opentoe"

# shape DOC: the structural checks, one "ok: ..." or "bad: ..." line each.
cat > "$W/shape.py" <<'EOF'
import json, re, sys

doc = json.load(open(sys.argv[1]))
out = []
def check(what, ok):
    out.append(("ok: " if ok else "bad: ") + what)

check("the top level is an object with schemaVersion 2.2", isinstance(doc, dict) and doc.get("schemaVersion") == "2.2")
check("top-level keys are schema 2.2's (schemaVersion, description, parameters, mainSteps)",
      set(doc) <= {"schemaVersion", "description", "parameters", "mainSteps"} and "mainSteps" in doc)
check("description is a string", isinstance(doc.get("description", ""), str))
params = doc.get("parameters", {})
check("parameters is an object", isinstance(params, dict))
ptypes = {"String", "StringList", "Integer", "Boolean", "MapList", "StringMap"}
pkeys = {"type", "description", "default", "allowedValues", "allowedPattern", "displayType", "minItems",
         "maxItems", "minChars", "maxChars", "interpolationType"}
for name, p in params.items():
    check(f"parameter {name}: a name SSM accepts, usable as SSM_{name}", re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name))
    check(f"parameter {name}: only documented keys", isinstance(p, dict) and set(p) <= pkeys)
    check(f"parameter {name}: a documented type", p.get("type") in ptypes)
    check(f"parameter {name}: interpolationType is ENV_VAR when given",
          p.get("interpolationType", "ENV_VAR") == "ENV_VAR")
    d = p.get("default")
    if "allowedPattern" in p:
        check(f"parameter {name}: its default matches its allowedPattern",
              isinstance(d, str) and re.search(p["allowedPattern"], d))
        check(f"parameter {name}: its allowedPattern keeps out quotes, '$', '`' and '\\'",
              not any(re.search(p["allowedPattern"], "a" + c + "b") for c in "'\"$`\\\n;"))
    if "allowedValues" in p:
        check(f"parameter {name}: its default is one of its allowedValues", d in p["allowedValues"])
    check(f"parameter {name}: restricted (allowedPattern or allowedValues)",
          "allowedPattern" in p or "allowedValues" in p)
steps = doc.get("mainSteps", [])
check("mainSteps is a list with one step", isinstance(steps, list) and len(steps) == 1)
for s in steps:
    check("the step has only documented keys (action, name, inputs, precondition)",
          set(s) <= {"action", "name", "inputs", "precondition"} and {"action", "name", "inputs"} <= set(s))
    check("the step's name is 1-100 letters, digits, '_', '-', '.'", re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", s.get("name", "")))
    check("the step is aws:runShellScript", s.get("action") == "aws:runShellScript")
    check("the step runs on Linux only", s.get("precondition") == {"StringEquals": ["platformType", "Linux"]})
    inputs = s.get("inputs", {})
    check("its inputs are runShellScript's (runCommand, timeoutSeconds, workingDirectory)",
          set(inputs) <= {"runCommand", "timeoutSeconds", "workingDirectory"} and "runCommand" in inputs)
    rc = inputs.get("runCommand")
    check("runCommand is a list of strings", isinstance(rc, list) and rc and all(isinstance(x, str) for x in rc))
    t = inputs.get("timeoutSeconds")
    m = re.fullmatch(r"\{\{ *(\w+) *\}\}", t) if isinstance(t, str) else None
    tv = params.get(m.group(1), {}).get("default") if m else t
    check("timeoutSeconds is between 5 and 172800 seconds", str(tv).isdigit() and 5 <= int(tv) <= 172800)
text = json.dumps(doc)
used = set(re.findall(r"\{\{ *(\w+) *\}\}", text))
check("every {{ }} names a parameter", used <= set(params))
script = "\n".join(steps[0]["inputs"]["runCommand"]) if steps else ""
for name in params:
    check(f"parameter {name} is used", name in used or ("SSM_" + name) in script)
print("\n".join(out))
EOF
python3 "$W/shape.py" "$doc_json" > "$W/shape" 2>&1
check "the document is valid JSON" eval 'grep -q "^ok: " "$W/shape" && ! grep -q Traceback "$W/shape"'
tap_verdicts "$W/shape"

# body OUT [NAME=VALUE...]: the script, as SSM Agent writes it: each {{ name }}
# replaced by the value given, else the parameter's default.
body() {
        python3 - "$doc_json" "$@" <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
given = dict(a.split("=", 1) for a in sys.argv[3:])
vals = {n: given.get(n, p.get("default", "")) for n, p in doc["parameters"].items()}
for n, v in vals.items():
    p = doc["parameters"][n]
    if "allowedPattern" in p and not re.search(p["allowedPattern"], v):
        sys.exit(f"{n}={v!r} does not match allowedPattern")
    if "allowedValues" in p and v not in p["allowedValues"]:
        sys.exit(f"{n}={v!r} is not an allowed value")
text = "\n".join(doc["mainSteps"][0]["inputs"]["runCommand"]) + "\n"
open(sys.argv[2], "w").write(re.sub(r"\{\{ *(\w+) *\}\}", lambda m: vals[m.group(1)], text))
EOF
}
# ssm_run SCRIPT [VAR=VALUE...]: runs it as SSM Agent does (its own folder,
# SSM_COMMAND_ID and the agent's variables; bash here); sets rc, out, err.
ssm_run() {
        local script=$1
        shift
        (cd "$W/work" && env PATH="$W/bin:$PATH" AWS_SSM_INSTANCE_ID=i-0123456789abcdef0 AWS_SSM_REGION_NAME=us-east-1 \
                "$@" bash "$script" > "$W/out" 2> "$W/err")
        rc=$?
        out=$(cat "$W/out")
        err=$(cat "$W/err")
}
on_failure() { diag "exit $rc"$'\n'"$out"$'\n'"$err"; }

mkdir -p "$W/work"
reboot_once_doc "$W/reboot.yml" "$W"
check "the document's script is bash and sh syntax" \
        eval 'body "$W/s.sh" && bash -n "$W/s.sh" && sh -n "$W/s.sh"'
body "$W/run.sh" documents="$W/reboot.yml" logDirectory="$W/logs" stateRoot="$W/ssm" rebootMode=exit phases=build
id=2f0c6a4e-7b1d-4c8e-9a55-0d3c1e2b4a66
# First delivery: an old agent (no SSM_ variables, only {{ }} replaced).
ssm_run "$W/run.sh" SSM_COMMAND_ID=$id
check_eval "first run: exit 194, the step before the reboot done once" \
        '[ $rc -eq 194 ] && [ "$(cat "$W/marks")" = before ] && grep -q "reboot 1 asked for" <<< "$out"'
check_eval "the state is saved under the command id" '[ -d "$W/ssm/$id/state" ] && [ "$(cat "$W/ssm/$id/reboots")" = 1 ]'
check_eval "the summary says a reboot is pending" 'grep -q "\"executionId\": \"$id\"" <<< "$out"'
# After the reboot SSM Agent runs the same command again (this time a new
# agent: the parameters come as SSM_<name> too).
ssm_run "$W/run.sh" SSM_COMMAND_ID=$id SSM_documents="$W/reboot.yml" SSM_logDirectory="$W/logs" \
        SSM_stateRoot="$W/ssm" SSM_rebootMode=exit SSM_phases=build SSM_config=
check_eval "second run: it resumes (exit 0), the step before is not run again" \
        '[ $rc -eq 0 ] && [ "$(printf "%s\n" before after)" = "$(cat "$W/marks")" ] &&
         grep -q "back after reboot 1; resuming" <<< "$out" && grep -q "\"status\": \"success\"" <<< "$out"'
check_eval "one execution, one log folder" '[ $(ls "$W/logs" | wc -l) -eq 1 ] && ls "$W/logs" | grep -q "_$id$"'
ssm_run "$W/run.sh" SSM_COMMAND_ID=$id
check_eval "a third delivery of the same command runs nothing and exits as the run did" \
        '[ $rc -eq 0 ] && grep -q "already run to its end (exit 0)" <<< "$out" && [ $(wc -l < "$W/marks") -eq 2 ]'

# A config file, the script run by sh as SSM Agent does (sh -c _script.sh).
printf '{"documents": [{"path": "%s"}]}\n' "$W/plain.yml" > "$W/config.json"
cat > "$W/plain.yml" <<EOF
name: plain
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Mark
        action: ExecuteBash
        inputs:
          commands:
            - echo plain >> "$W/plain-marks"
EOF
body "$W/cfg.sh" config="$W/config.json" logDirectory="$W/logs2" stateRoot="$W/ssm" rebootMode=exit
(cd "$W/work" && env PATH="$W/bin:$PATH" SSM_COMMAND_ID=cmd-2 sh "$W/cfg.sh" > "$W/out" 2> "$W/err"); rc=$?
out=$(cat "$W/out") err=$(cat "$W/err")
check_eval "with the config parameter, under sh: exit 0, the step ran" \
        '[ $rc -eq 0 ] && [ "$(cat "$W/plain-marks")" = plain ] && [ "$(cat "$W/ssm/cmd-2/exit-status")" = 0 ]'

# Refusals.
ssm_run "$W/run.sh"
check_eval "no SSM_COMMAND_ID: exit 1, saying so" '[ $rc -eq 1 ] && grep -q "SSM_COMMAND_ID is missing" <<< "$err"'
ssm_run "$W/run.sh" SSM_COMMAND_ID='../x'
check_eval "a command id that is not an id: exit 1" '[ $rc -eq 1 ] && [ ! -e "$W/x" ]'
body "$W/none.sh" stateRoot="$W/ssm"
ssm_run "$W/none.sh" SSM_COMMAND_ID=cmd-3
check_eval "neither config nor documents: exit 1, saying so" '[ $rc -eq 1 ] && grep -q "give the config" <<< "$err"'
check_eval "a value with a quote is refused by allowedPattern before it reaches the script" \
        '! body "$W/bad.sh" documents="x'"'"';touch $W/pwned;'"'"'" 2> /dev/null && [ ! -e "$W/pwned" ]'
if PATH=/usr/bin:/bin command -v opentoe > /dev/null; then
        skip "opentoe is installed on this machine: the not-installed case cannot be shown"
else
        (cd "$W/work" && env PATH=/usr/bin:/bin SSM_COMMAND_ID=cmd-4 bash "$W/run.sh" > "$W/out" 2> "$W/err"); rc=$?
        err=$(cat "$W/err")
        check_eval "without opentoe installed: exit 1, saying so" \
                '[ $rc -eq 1 ] && grep -q "opentoe is not installed" <<< "$err"'
fi

done_testing
