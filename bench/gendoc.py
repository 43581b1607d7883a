#!/usr/bin/env python3
# gendoc.py: writes a component document of N ExecuteBash steps for the
# scaling rows of bench/run and for measuring the front end: every step
# uses the previous step's output, every tenth also a parameter and a
# named loop (so step names, loop names and references all grow with N).
# Stays under the 1 MiB document limit up to 10,000 steps.
#
#   bench/gendoc.py N FILE
import sys

n, path = int(sys.argv[1]), sys.argv[2]
out = ["schemaVersion: 1.0", "parameters:", "- Par: {type: string, default: x}", "phases:",
       "- name: build", "  steps:"]
for i in range(n):
    ref = f"{{{{ build.S{i - 1}.outputs.stdout }}}}" if i else "true"
    if i % 10 == 5:
        out.append(f'  - {{name: S{i}, action: ExecuteBash, loop: {{name: L{i}, forEach: [a]}}, '
                   f'inputs: {{commands: ["{{{{ Par }}}}{ref}"]}}}}')
    else:
        out.append(f'  - {{name: S{i}, action: ExecuteBash, inputs: {{commands: ["{ref}"]}}}}')
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
