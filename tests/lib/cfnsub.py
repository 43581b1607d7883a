#!/usr/bin/env python3
"""cfnsub.py: CloudFormation's Fn::Sub on one string, for the suites that
run a component document published as the body of an Fn::Sub (it is
embedded in a CloudFormation template and only becomes a document once
CloudFormation has substituted it).

    cfnsub.py [--region R] [--account-id ID] [--stack-name N]
              [--stack-id ARN] [-v NAME=VALUE]... [FILE]

reads FILE (or stdin) and writes the substituted string to stdout.  On
an error (an unknown variable, a variable with no value here, a `${`
without its `}`), a message on stderr naming the line, and exit 1;
nothing is written then.

The rules, as the CloudFormation template reference states them
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html
and .../UserGuide/pseudo-parameter-reference.html):
  - a variable is written ${MyVarName}: a template parameter, a resource
    logical ID, a resource attribute (${MyInstance.PublicIp}) or a key of
    the variable map; here every one of them is a -v NAME=VALUE;
  - "To write a dollar sign and curly braces (${}) literally, add an
    exclamation point (!) after the open curly brace, such as
    ${!Literal}. CloudFormation resolves this text as ${Literal}.": the
    three characters `${!` become `${`, and what follows is text again
    (so `${!A:+.${!A}}` becomes `${A:+.${A}}`);
  - pseudo parameters are written ${AWS::Region}: AWS::AccountId,
    AWS::Partition, AWS::Region, AWS::StackId, AWS::StackName and
    AWS::URLSuffix are strings (the partition and URL suffix follow from
    the region); AWS::NotificationARNs is a list and AWS::NoValue means
    "no property", neither is a string to put in one;
  - a `$` not followed by `{` is text.
What the reference leaves unsaid, taken strictly here: a variable name
is taken as written (no spaces trimmed, none allowed), and a `${` whose
`}` never comes is an error, as an unknown name is.
"""
import argparse
import re
import sys

NAME = re.compile(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)*\Z")
PSEUDO_STRINGS = ("AWS::AccountId", "AWS::Partition", "AWS::Region",
                  "AWS::StackId", "AWS::StackName", "AWS::URLSuffix")
PSEUDO_NOT_STRINGS = ("AWS::NotificationARNs", "AWS::NoValue")


class SubError(Exception):
    pass


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def pseudo_values(region, account_id, stack_name, stack_id):
    vals = {}
    if region is not None:
        vals["AWS::Region"] = region
        vals["AWS::Partition"], vals["AWS::URLSuffix"] = partition_of(region)
    if account_id is not None:
        vals["AWS::AccountId"] = account_id
    if stack_name is not None:
        vals["AWS::StackName"] = stack_name
    if stack_id is not None:
        vals["AWS::StackId"] = stack_id
    return vals


def lookup(name, variables, pseudo):
    if name.startswith("AWS::"):
        if name in PSEUDO_NOT_STRINGS:
            raise SubError(f"${{{name}}} is not a string; Fn::Sub cannot put it in one")
        if name not in PSEUDO_STRINGS:
            raise SubError(f"${{{name}}}: no such pseudo parameter")
        if name not in pseudo:
            raise SubError(f"${{{name}}}: no value given for this pseudo parameter")
        return pseudo[name]
    if not NAME.match(name):
        raise SubError(f"${{{name}}}: not a variable name (a parameter, a logical ID, or Resource.Attribute)")
    if name not in variables:
        raise SubError(f"${{{name}}}: unknown variable (not a parameter, resource or map key given)")
    return variables[name]


def substitute(text, variables, pseudo):
    out = []
    i = 0
    while True:
        at = text.find("${", i)
        if at < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:at])
        line = text.count("\n", 0, at) + 1
        if text.startswith("!", at + 2):
            out.append("${")
            i = at + 3
            continue
        end = text.find("}", at + 2)
        if end < 0:
            raise SubError(f"line {line}: '${{' without its '}}'")
        try:
            out.append(lookup(text[at + 2:end], variables, pseudo))
        except SubError as e:
            raise SubError(f"line {line}: {e}") from None
        i = end + 1


def main():
    ap = argparse.ArgumentParser(description="CloudFormation's Fn::Sub on one string")
    ap.add_argument("--region")
    ap.add_argument("--account-id")
    ap.add_argument("--stack-name")
    ap.add_argument("--stack-id")
    ap.add_argument("-v", dest="vars", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("file", nargs="?")
    a = ap.parse_args()
    variables = {}
    for kv in a.vars:
        name, eq, value = kv.partition("=")
        if not eq:
            ap.error(f"-v {kv}: expected NAME=VALUE")
        variables[name] = value
    if a.file:
        with open(a.file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    pseudo = pseudo_values(a.region, a.account_id, a.stack_name, a.stack_id)
    try:
        result = substitute(text, variables, pseudo)
    except SubError as e:
        print(f"cfnsub: {a.file or '-'}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
