#!/bin/bash
# quickstart.sh: the README's first command.  Installs what is missing,
# builds opentoe, and validates the example component document.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
doc=${1:-$top/examples/hello-world.yml}
echo "+ opentoe validate $doc"
"$top/build/opentoe" validate "$doc"
